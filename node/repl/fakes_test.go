package repl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/resp"
)

// The fakes the protocol tests drive the state machines with: a clock that moves only
// when told, a dialer that hands the test the master's end of an in-memory pipe, a
// loader and an applier that record what they get, a connection that records what a
// master writes to a replica, and a logger that keeps the lines.

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fakeLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *fakeLog) Noticef(format string, args ...any) { l.add(fmt.Sprintf(format, args...)) }

func (l *fakeLog) Warningf(format string, args ...any) { l.add(fmt.Sprintf(format, args...)) }

func (l *fakeLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

// has reports whether a line starting with prefix was logged.
func (l *fakeLog) has(prefix string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// pipeDialer connects every dial to an in-memory pipe whose other end goes to conns.
type pipeDialer struct {
	conns chan *masterEnd
	addrs chan string
}

func newPipeDialer() *pipeDialer {
	return &pipeDialer{conns: make(chan *masterEnd, 4), addrs: make(chan string, 4)}
}

func (d *pipeDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case d.conns <- &masterEnd{conn: b, rd: resp.NewReader(b)}:
		d.addrs <- addr
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// accept returns the master's end of the replica's next connection.
func (d *pipeDialer) accept(t *testing.T) *masterEnd {
	t.Helper()
	select {
	case m := <-d.conns:
		m.t = t
		t.Cleanup(func() { m.conn.Close() })
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("the replica did not connect")
		return nil
	}
}

// masterEnd plays the master on one connection.
type masterEnd struct {
	t    *testing.T
	conn net.Conn
	rd   *resp.Reader
}

// next reads the replica's next command.
func (m *masterEnd) next() ([]string, error) {
	m.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	argv, err := m.rd.ReadCommand()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = string(a)
	}
	return out, nil
}

// expect reads the replica's next command and checks it is want.
func (m *masterEnd) expect(want ...string) {
	m.t.Helper()
	got, err := m.next()
	if err != nil {
		m.t.Fatalf("waiting for %q: %v", want, err)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		m.t.Fatalf("replica sent %q, want %q", got, want)
	}
}

// send writes raw protocol to the replica.
func (m *masterEnd) send(raw string) {
	m.t.Helper()
	m.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(m.conn, raw); err != nil {
		m.t.Fatalf("send %q: %v", raw, err)
	}
}

// closed reports whether the replica closed the connection: reads end with an error
// other than a timeout, skipping whatever the replica still sent (ACKs).
func (m *masterEnd) closed(within time.Duration) bool {
	deadline := time.Now().Add(within)
	buf := make([]byte, 512)
	for time.Now().Before(deadline) {
		m.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := m.rd.BufioReader().Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return true
		}
	}
	return false
}

// recordLoader keeps the full sync payloads it loads.
type recordLoader struct {
	mu    sync.Mutex
	loads [][]byte
}

func (l *recordLoader) LoadRDB(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.loads = append(l.loads, b)
	l.mu.Unlock()
	return nil
}

func (l *recordLoader) all() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.loads...)
}

// recordApplier keeps the commands of the stream it applies.
type recordApplier struct {
	mu       sync.Mutex
	cmds     []string
	sessions int
}

func (a *recordApplier) StreamStarted(net.Conn) {
	a.mu.Lock()
	a.sessions++
	a.mu.Unlock()
}

func (a *recordApplier) Apply(argv [][]byte) {
	parts := make([]string, len(argv))
	for i, p := range argv {
		parts[i] = string(p)
	}
	a.mu.Lock()
	a.cmds = append(a.cmds, strings.Join(parts, " "))
	a.mu.Unlock()
}

func (a *recordApplier) StreamEnded() {}

func (a *recordApplier) applied() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.cmds...)
}

// recordConn is a replica's connection as the master sees it: it keeps what the master
// writes.
type recordConn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
}

func (c *recordConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	return c.buf.Write(p)
}

func (c *recordConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *recordConn) SetWriteDeadline(time.Time) error { return nil }

func (c *recordConn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *recordConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// eventually polls cond until it holds, failing after five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeSnapshotter writes payload as the RDB, fixing the snapshot's instant first.
type fakeSnapshotter struct{ payload string }

func (s fakeSnapshotter) Snapshot(_ context.Context, w io.Writer, at func() ReplState) error {
	at()
	_, err := io.WriteString(w, s.payload)
	return err
}
