package server_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// rawExchange writes payload on a fresh connection and returns everything the server sends
// until it closes the connection or stays silent for a moment.
func rawExchange(t *testing.T, n *nodetest.Node, payload string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := n.Dial(ctx)
	if err != nil {
		t.Fatalf("dial %s: %v", n.Addr(), err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(payload)); err != nil {
		t.Fatalf("write: %v", err)
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		// A loaded CI machine can take a while to answer at all; once replies flow, a
		// short silence means the server has said all it will.
		wait := 300 * time.Millisecond
		if out.Len() == 0 {
			wait = 1500 * time.Millisecond
		}
		conn.SetReadDeadline(time.Now().Add(wait))
		k, err := conn.Read(buf)
		out.Write(buf[:k])
		if err != nil {
			break
		}
	}
	return out.String()
}

// TestHostileRequestsMatchRedis sends malformed and refused requests to redis-server and
// to clusterctl server, requires byte-identical replies, and checks the server still
// serves afterwards.
func TestHostileRequestsMatchRedis(t *testing.T) {
	p := startPair(t, nodetest.Options{Password: "secret"})
	cases := []struct{ name, payload string }{
		{"bad bulk length", "*1\r\n$abc\r\n"},
		{"negative bulk length", "*1\r\n$-3\r\nfoo\r\n"},
		{"600 MB bulk header", "*2\r\n$3\r\nGET\r\n$629145600\r\n"},
		{"bad multibulk length", "*x\r\n"},
		{"expected dollar", "*1\r\n+PING\r\n"},
		{"unbalanced quotes", "PING \"abc\r\n"},
		{"unauthenticated big multibulk", "*100\r\n"},
		{"unauthenticated big bulk", "*1\r\n$100000\r\n"},
		{"unknown command before auth", "*3\r\n$7\r\nFOOBAR1\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"wrong password", "*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n"},
		{"wrong user", "*3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$6\r\nsecret\r\n"},
		{"unknown command with args", "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n*3\r\n$7\r\nFOOBAR1\r\n$4\r\nab\nc\r\n$" + "200\r\n" + strings.Repeat("z", 200) + "\r\n"},
		{"wrong arity", "AUTH secret\r\nGET\r\nSET a\r\nPING a b\r\nCONFIG\r\nCONFIG GET\r\n"},
		{"unknown subcommand", "AUTH secret\r\nCONFIG FOO\r\nCLIENT " + strings.Repeat("x", 200) + "\r\n"},
		{"inline then close", "AUTH secret\r\nPING\r\nQUIT\r\nPING\r\n"},
		{"empty requests", "\r\n*0\r\nAUTH secret\r\n*-1\r\nPING\r\n"},
	}
	for _, tc := range cases {
		want := rawExchange(t, p.redis, tc.payload)
		got := rawExchange(t, p.ours, tc.payload)
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, want)
		}
		if reply := rawExchange(t, p.ours, "AUTH secret\r\nPING\r\n"); reply != "+OK\r\n+PONG\r\n" {
			t.Fatalf("after %s the server answers %q", tc.name, reply)
		}
	}
}

// TestBadConfigFileMatchesRedis starts both servers on a configuration with an unknown
// directive: both must refuse to start with the same message.
func TestBadConfigFileMatchesRedis(t *testing.T) {
	redisBin := nodetest.RequireBinary(t, "redis-server")
	ours := nodetest.ClusterctlBinary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "bad.conf")
	os.WriteFile(conf, []byte("port 0\nfoo bar\n"), 0o644)
	run := func(bin string, args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), code
	}
	want, wantCode := run(redisBin, conf)
	got, gotCode := run(ours, "server", conf)
	if got != want || gotCode != wantCode {
		t.Errorf("bad config:\n got %q (exit %d)\nwant %q (exit %d)", got, gotCode, want, wantCode)
	}
}
