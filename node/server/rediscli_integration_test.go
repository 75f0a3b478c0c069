package server_test

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// terminal is redis-cli running interactively on a pseudo-terminal, as a user would run it.
type terminal struct {
	t    *testing.T
	tty  *os.File
	mu   sync.Mutex
	seen bytes.Buffer
	done chan struct{}
}

func startRedisCLI(t *testing.T, port int) *terminal {
	t.Helper()
	bin := nodetest.RequireBinary(t, "redis-cli")
	cmd := nodetest.Command(bin, "-h", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr.Setpgid = false // pty gives it a session of its own
	// linenoise shows hints only on a terminal it knows; HOME keeps the history file out of
	// the user's home directory.
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+t.TempDir())
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatalf("start redis-cli on a pty: %v", err)
	}
	term := &terminal{t: t, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.seen.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		tty.Close()
		<-term.done
	})
	return term
}

// typeText sends keystrokes and waits until the screen output contains want.
func (term *terminal) typeText(keys, want string) {
	term.t.Helper()
	term.mu.Lock()
	term.seen.Reset()
	term.mu.Unlock()
	if _, err := term.tty.Write([]byte(keys)); err != nil {
		term.t.Fatalf("type %q: %v", keys, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		term.mu.Lock()
		out := term.seen.String()
		term.mu.Unlock()
		if strings.Contains(out, want) {
			return
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("after typing %q the terminal shows %q, want it to contain %q", keys, out, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisCLIInteractive drives redis-cli on a pseudo-terminal against clusterctl server:
// the prompt, replies, the argument hints shown while typing and HELP all work, and the
// hints come from our COMMAND DOCS (redis-cli asks for them when it connects).
func TestRedisCLIInteractive(t *testing.T) {
	n := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	term := startRedisCLI(t, n.Port)
	prompt := "127.0.0.1:" + strconv.Itoa(n.Port) + ">"
	term.typeText("", prompt)

	term.typeText("SET greeting hello\r", "OK")
	term.typeText("GET greeting\r", `"hello"`)
	// A hint appears after the command name and shrinks as arguments are typed.
	term.typeText("SET ", "key value [NX|XX] [GET]")
	term.typeText("k ", "value [NX|XX] [GET]")
	term.typeText("\x15", prompt) // Ctrl-U clears the line
	term.typeText("EXPIRE ", "key seconds [NX|XX|GT|LT]")
	term.typeText("\x15", prompt)
	// Our COMMAND DOCS summary is worded differently from redis-cli's built-in help, so
	// seeing it proves redis-cli took its help from the server.
	term.typeText("help GETEX\r", "Returns the string value of a key and changes its expiration.")
	term.typeText("INCR greeting\r", "(error) ERR value is not an integer or out of range")
	term.typeText("FOOBAR\r", "(error) ERR unknown command 'FOOBAR'")

	out, err := exec.Command(nodetest.RequireBinary(t, "redis-cli"), "-p", strconv.Itoa(n.Port),
		"info", "commandstats").Output()
	if err != nil {
		t.Fatalf("info commandstats: %v", err)
	}
	if !strings.Contains(string(out), "cmdstat_command|docs:calls=1") {
		t.Errorf("redis-cli did not fetch COMMAND DOCS from the server; commandstats:\n%s", out)
	}
}
