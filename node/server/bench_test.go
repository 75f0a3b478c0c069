package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/config"
	"github.com/clusterctl/clusterctl/node/logging"
	"github.com/clusterctl/clusterctl/node/resp"
)

// newTestServer returns a server that is not listening, for in-process tests.
func newTestServer(t testing.TB, args ...string) *Server {
	t.Helper()
	// No save points by default: an in-process server would write dump.rdb into the
	// package directory when it shuts down. A test's own --save comes later and wins.
	cfg, err := config.Load("", append([]string{"--save", ""}, args...))
	if err != nil {
		t.Fatal(err)
	}
	log, _ := logging.NewWriter(io.Discard, "warning")
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeConn is a net.Conn over in-memory buffers.
type fakeConn struct {
	in     *bytes.Reader
	out    bytes.Buffer
	writes int
	remote net.IP
}

func (f *fakeConn) Read(p []byte) (int, error)  { return f.in.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error) { f.writes++; return f.out.Write(p) }
func (f *fakeConn) Close() error                { return nil }
func (f *fakeConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379} }
func (f *fakeConn) RemoteAddr() net.Addr {
	if f.remote != nil {
		return &net.TCPAddr{IP: f.remote, Port: 50000}
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (f *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(t time.Time) error { return nil }

func benchCommand(b *testing.B, setup [][]string, args ...string) {
	s := newTestServer(b)
	fc := &fakeConn{in: bytes.NewReader(nil)}
	c := s.newClient(fc)
	for _, cmd := range setup {
		argv := make([][]byte, len(cmd))
		for i, a := range cmd {
			argv[i] = []byte(a)
		}
		c.execute(argv)
	}
	var req bytes.Buffer
	w := resp.NewWriter(&req)
	for i := 0; i < 16; i++ {
		w.CommandStrings(args...)
	}
	w.Flush()
	payload := req.Bytes()
	c.r = resp.NewReader(bufio.NewReaderSize(fc.in, 16*1024))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 16 {
		fc.in.Reset(payload)
		for j := 0; j < 16; j++ {
			argv, err := c.r.ReadCommand()
			if err != nil {
				b.Fatal(err)
			}
			c.execute(argv)
		}
		c.w.Reset()
	}
}

func BenchmarkGet(b *testing.B) {
	benchCommand(b, [][]string{{"SET", "key:000000000042", "xxx"}}, "GET", "key:000000000042")
}

func BenchmarkSet(b *testing.B) {
	benchCommand(b, nil, "SET", "key:000000000042", "xxx")
}

func BenchmarkIncr(b *testing.B) {
	benchCommand(b, nil, "INCR", "counter:000000000042")
}
