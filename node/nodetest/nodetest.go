// Package nodetest starts Redis nodes for tests: `clusterctl server` built from this module,
// or the real `redis-server` for comparisons and for the admin commands' integration tests.
// It is the one way tests start a server. Every node listens on a loopback address, on a
// free port below the kernel's ephemeral range (with its cluster bus port, +10000, free as
// well), in its own temporary directory, and is stopped when the test ends, pass or fail.
//
// Tests that need redis-server or redis-cli call RequireBinary: without the binary the test
// is skipped with a message, unless REQUIRE_REDIS is set, in which case it fails.
package nodetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Kind selects which server binary a Node runs.
type Kind int

const (
	// Clusterctl is `clusterctl server`, built from this module.
	Clusterctl Kind = iota
	// Redis is the real redis-server found on PATH.
	Redis
)

func (k Kind) String() string {
	if k == Redis {
		return "redis-server"
	}
	return "clusterctl"
}

// Options describe a node to start.
type Options struct {
	// Host is the loopback address to bind; default 127.0.0.1. Other 127.x.y.z addresses
	// stand for distinct hosts.
	Host string
	// Cluster enables cluster mode (cluster-enabled yes, with a nodes.conf in the node's dir).
	Cluster bool
	// NodeTimeout is cluster-node-timeout in milliseconds; default 2000 in cluster mode.
	NodeTimeout int
	// Password sets requirepass and masterauth.
	Password string
	// Config holds extra directives as name, value pairs: {"appendonly", "yes"}.
	Config [][2]string
	// Dir is the working directory; default a fresh t.TempDir().
	Dir string
	// Port forces a port (for restarts); default a free one.
	Port int
	// ConfigFile starts the server with a configuration file (redis.conf in Dir, empty at
	// first) before the directives, so that CONFIG REWRITE has a file to rewrite.
	ConfigFile bool
}

// Node is a running server started by Start.
type Node struct {
	Kind Kind
	Host string
	Port int
	Dir  string
	// LogPath is the file the server logs to; its tail is printed when start-up fails.
	LogPath string

	t       testing.TB
	opts    Options
	cmd     *exec.Cmd
	waitErr chan error
	mu      sync.Mutex
	stopped bool
}

// Addr returns host:port.
func (n *Node) Addr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// PID returns the server's process ID.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// RequireBinary returns the path of a binary the test needs (redis-server, redis-cli,
// redis-benchmark, redis-check-rdb). When it is missing the test is skipped, or fails when
// the REQUIRE_REDIS environment variable is set (as CI does).
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("REQUIRE_REDIS") != "" {
		t.Fatalf("%s not found on PATH and REQUIRE_REDIS is set: install Debian's redis-server and redis-tools", name)
	}
	t.Skipf("skipping: %s not found on PATH (install redis-server and redis-tools, or set REQUIRE_REDIS=1 to make this a failure)", name)
	return ""
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// ClusterctlBinary builds the clusterctl binary once per test process and returns its
// path. CLUSTERCTL_BIN overrides it with a prebuilt binary.
func ClusterctlBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CLUSTERCTL_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clusterctl-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "clusterctl")
		cmd := exec.Command("go", "build", "-o", buildPath, "github.com/clusterctl/clusterctl")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build clusterctl: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// Start starts a node of the given kind and registers its stop with t.Cleanup.
func Start(t testing.TB, kind Kind, opts Options) *Node {
	t.Helper()
	var bin string
	if kind == Redis {
		bin = RequireBinary(t, "redis-server")
	} else {
		bin = ClusterctlBinary(t)
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := opts.Port
		if port == 0 {
			port = FreePort(t, opts.Host)
		}
		n := &Node{Kind: kind, Host: opts.Host, Port: port, Dir: opts.Dir, t: t, opts: opts,
			LogPath: filepath.Join(opts.Dir, fmt.Sprintf("node-%d.log", port))}
		err := n.start(bin)
		if err == nil {
			t.Cleanup(n.Stop)
			return n
		}
		lastErr = err
		if opts.Port != 0 {
			break
		}
	}
	t.Fatalf("start %s: %v", kind, lastErr)
	return nil
}

// configArgs renders the options as `--directive value` arguments, which both
// redis-server and clusterctl server accept.
func (n *Node) configArgs() []string {
	args := []string{
		"--port", strconv.Itoa(n.Port),
		"--bind", n.Host,
		"--dir", n.Dir,
		"--logfile", n.LogPath,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
	}
	if n.opts.Cluster {
		timeout := n.opts.NodeTimeout
		if timeout == 0 {
			timeout = 2000
		}
		args = append(args,
			"--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", n.Port),
			"--cluster-node-timeout", strconv.Itoa(timeout))
	}
	if n.opts.Password != "" {
		args = append(args, "--requirepass", n.opts.Password, "--masterauth", n.opts.Password)
	}
	for _, kv := range n.opts.Config {
		args = append(args, "--"+kv[0], kv[1])
	}
	return args
}

func (n *Node) start(bin string) error {
	var args []string
	if n.Kind == Clusterctl {
		args = append(args, "server")
	}
	if n.opts.ConfigFile {
		conf := filepath.Join(n.Dir, "redis.conf")
		if _, err := os.Stat(conf); err != nil {
			if err := os.WriteFile(conf, nil, 0o644); err != nil {
				return fmt.Errorf("create %s: %w", conf, err)
			}
		}
		args = append(args, conf)
	}
	args = append(args, n.configArgs()...)
	cmd := Command(bin, args...)
	cmd.Dir = n.Dir
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd = cmd
	n.waitErr = make(chan error, 1)
	go func() { n.waitErr <- cmd.Wait() }()
	if err := n.waitReady(15 * time.Second); err != nil {
		n.kill()
		return fmt.Errorf("%s on %s did not become ready: %w\n%s", n.Kind, n.Addr(), err, n.logTail())
	}
	return nil
}

// Command returns an exec.Cmd for a helper process of a test (redis-benchmark, redis-cli,
// a clusterctl binary): like every node this package starts, it dies with the test process.
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = procAttr()
	return cmd
}

func (n *Node) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case err := <-n.waitErr:
			n.waitErr <- err
			return fmt.Errorf("process exited: %v", err)
		default:
		}
		if lastErr = n.ping(); lastErr == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return lastErr
}

// ping succeeds once the node answers PING with PONG or with an authentication error
// (which also proves it is serving).
func (n *Node) ping() error {
	conn, err := net.DialTimeout("tcp", n.Addr(), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	w := resp.NewWriter(conn)
	w.CommandStrings("PING")
	if err := w.Flush(); err != nil {
		return err
	}
	v, err := resp.NewReader(conn).ReadValue()
	if err != nil {
		return err
	}
	if v.Kind == resp.Error && !strings.HasPrefix(string(v.Str), "NOAUTH") {
		return v.Err()
	}
	return nil
}

func (n *Node) logTail() string {
	b, err := os.ReadFile(n.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return "log tail:\n" + strings.Join(lines, "\n")
}

// Freeze stops the process with SIGSTOP, to simulate a hung node; Stop thaws it first.
func (n *Node) Freeze() { n.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen node.
func (n *Node) Thaw() { n.signal(syscall.SIGCONT) }

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.stopped {
		n.cmd.Process.Signal(sig)
	}
}

// Kill ends the node with SIGKILL, as a crash would, and waits for it.
func (n *Node) Kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return
	}
	n.kill()
	n.stopped = true
}

func (n *Node) kill() {
	n.cmd.Process.Signal(syscall.SIGCONT)
	n.cmd.Process.Kill()
	<-n.waitErr
	n.waitErr <- errors.New("killed")
}

// Stop ends the node with SIGTERM (a clean shutdown), then SIGKILL if it has not exited
// within five seconds. It is safe to call more than once.
func (n *Node) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return
	}
	n.stopped = true
	n.cmd.Process.Signal(syscall.SIGCONT)
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.waitErr:
	case <-time.After(5 * time.Second):
		n.cmd.Process.Kill()
		<-n.waitErr
	}
}

// Restart stops the node and starts it again on the same address and directory, keeping its
// data and nodes.conf.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	bin := ClusterctlBinary(n.t)
	if n.Kind == Redis {
		bin = RequireBinary(n.t, "redis-server")
	}
	n.mu.Lock()
	n.stopped = false
	n.mu.Unlock()
	if err := n.start(bin); err != nil {
		n.t.Fatalf("restart %s: %v", n.Addr(), err)
	}
}

// Ports below this stay clear of well-known services; node ports stay below
// ephemeralStart-10000 so that the cluster bus port (+10000) is not in the kernel's
// ephemeral range either.
const (
	minPort        = 12000
	ephemeralStart = 32768
	maxPort        = ephemeralStart - 10000 - 1
)

var portMu sync.Mutex
var handedOut = map[string]bool{}

// FreePort returns a port on host such that the port and port+10000 are both free, never
// handed out before by this process. Tests in other packages run as other processes, so
// the start is retried on a bind failure.
func FreePort(t testing.TB, host string) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 1000; i++ {
		port := minPort + rand.IntN(maxPort-minPort)
		key := net.JoinHostPort(host, strconv.Itoa(port))
		if handedOut[key] {
			continue
		}
		if portFree(host, port) && portFree(host, port+10000) {
			handedOut[key] = true
			return port
		}
	}
	t.Fatalf("no free port pair found on %s", host)
	return 0
}

func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Dial opens a RESP connection to the node with a deadline-bound context, for tests that
// speak the protocol directly (malformed requests, raw replies).
func (n *Node) Dial(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.Addr())
	if err != nil {
		return nil, nil, err
	}
	return conn, bufio.NewReader(conn), nil
}
