package readiness

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"
)

// pairWith returns a loopback connection wrapped by wrap and its peer.
func pairWith(t *testing.T, wrap func(net.Conn) net.Conn) (wrapped, peer net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	peer, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	wrapped = wrap(server)
	t.Cleanup(func() { wrapped.Close(); peer.Close() })
	return wrapped, peer
}

// readWithin reads len(want) bytes or fails the test after d.
func readWithin(t *testing.T, c net.Conn, want string, d time.Duration) {
	t.Helper()
	got := make([]byte, len(want))
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(c, got)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if string(got) != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	case <-time.After(d):
		t.Fatalf("no data within %v: a reader waited for a wake-up that never came", d)
	}
}

// stream returns a loopback connection wrapped by Stream and its peer.
func stream(t *testing.T) (wrapped, peer net.Conn) {
	t.Helper()
	w, peer := pairWith(t, Stream)
	if _, ok := w.(*streamConn); !ok && runtime.GOOS == "linux" {
		t.Fatalf("Stream returned %T, want a *streamConn", w)
	}
	return w, peer
}

func TestStreamSeesEveryRequest(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string // written by the peer with a pause in between
	}{
		{"one request", []string{"PING\r\n"}},
		{"request split in two writes", []string{"*1\r\n$4\r\n", "PING\r\n"}},
		{"many small requests", []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, peer := stream(t)
			// Ping-pong: each chunk is written only after the previous one was read, so
			// every read after the first drained the socket and waits for readiness.
			for _, chunk := range tc.chunks {
				if _, err := peer.Write([]byte(chunk)); err != nil {
					t.Fatal(err)
				}
				readWithin(t, w, chunk, 5*time.Second)
			}
		})
	}
}

func TestBufferSizedReadDoesNotWaitForReadiness(t *testing.T) {
	w, peer := stream(t)
	// 10 bytes arrive at once and are read 4 at a time: the bytes left after a full
	// read bring no new readiness, so they must be read without waiting for it.
	if _, err := peer.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	readWithin(t, w, "0123", 5*time.Second)
	readWithin(t, w, "4567", 5*time.Second)
	readWithin(t, w, "89", 5*time.Second)
}

func TestCloseAndDeadlineWakeAWaitingReader(t *testing.T) {
	cases := []struct {
		name    string
		act     func(net.Conn)
		wantErr func(error) bool
	}{
		{"close", func(c net.Conn) { c.Close() }, func(err error) bool { return err == io.EOF || errors.Is(err, net.ErrClosed) }},
		{"expired read deadline", func(c net.Conn) { c.SetReadDeadline(time.Unix(1, 0)) },
			func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }},
		{"expired deadline", func(c net.Conn) { c.SetDeadline(time.Unix(1, 0)) },
			func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, peer := stream(t)
			peer.Write([]byte("x"))
			readWithin(t, w, "x", 5*time.Second) // the socket is drained: the next read waits
			done := make(chan error, 1)
			go func() {
				_, err := w.Read(make([]byte, 16))
				done <- err
			}()
			time.Sleep(20 * time.Millisecond)
			tc.act(w)
			select {
			case err := <-done:
				if !tc.wantErr(err) {
					t.Fatalf("read error %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the reader was not woken")
			}
		})
	}
}

// TestReadsAgainAfterADeadline: a deadline ends one Read, not the connection. Blocking
// commands wake their disconnection watcher that way and then read on.
func TestReadsAgainAfterADeadline(t *testing.T) {
	w, peer := stream(t)
	peer.Write([]byte("a"))
	readWithin(t, w, "a", 5*time.Second)
	w.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := w.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	w.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		peer.Write([]byte("b"))
	}()
	readWithin(t, w, "b", 5*time.Second)
}

// TestReadsFromAnotherGoroutine: a Read may come from a goroutine other than the last
// one's, as a blocked client's disconnection watcher reads between the client's Reads.
func TestReadsFromAnotherGoroutine(t *testing.T) {
	w, peer := stream(t)
	for i, chunk := range []string{"one", "two", "three"} {
		peer.Write([]byte(chunk))
		got := make(chan string, 1)
		go func() {
			b := make([]byte, 8)
			n, _ := w.Read(b)
			got <- string(b[:n])
		}()
		select {
		case s := <-got:
			if s != chunk {
				t.Fatalf("read %d = %q, want %q", i, s, chunk)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("read %d never returned", i)
		}
	}
}

// TestCloseBetweenReads: Close does not wait for a reader that is not reading (the
// stream holds the socket between Reads), the peer sees the end, and later calls fail.
func TestCloseBetweenReads(t *testing.T) {
	w, peer := stream(t)
	peer.Write([]byte("x"))
	readWithin(t, w, "x", 5*time.Second)
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a Read that never came")
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := peer.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the peer read %d, %v after the close; want 0, EOF", n, err)
	}
	if _, err := w.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v, want net.ErrClosed", err)
	}
	if _, err := w.Write([]byte("y")); err == nil {
		t.Fatal("a write after close succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("a second close reported no error")
	}
}

func TestPlainConnsStayPlain(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := Stream(a); got != a {
		t.Fatal("a connection without a descriptor must be returned unchanged")
	}
}

// wrappers are the two ways this package wraps a socket, for the tests of what both do.
func wrappers(t *testing.T) map[string]func(net.Conn) net.Conn {
	return map[string]func(net.Conn) net.Conn{"stream": Stream, "raw": RawIO}
}

// TestFailedReadReturnsNoBytes: a read that a deadline ends before it reaches the socket
// reports no bytes, not the count of the read before it (the caller would take stale
// buffer contents for data).
func TestFailedReadReturnsNoBytes(t *testing.T) {
	for name, wrap := range wrappers(t) {
		t.Run(name, func(t *testing.T) { testFailedReadReturnsNoBytes(t, wrap) })
	}
}

func testFailedReadReturnsNoBytes(t *testing.T, wrap func(net.Conn) net.Conn) {
	c, peer := pairWith(t, wrap)
	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("first read = %q, %v", buf[:n], err)
	}
	if err := c.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(buf)
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline = %d, %v; want 0, a deadline error", n, err)
	}
}

// TestLargeWrite: a write larger than the socket's buffer completes (it waits for the
// peer to read) and the peer gets every byte in order.
func TestLargeWrite(t *testing.T) {
	for name, wrap := range wrappers(t) {
		t.Run(name, func(t *testing.T) { testLargeWrite(t, wrap) })
	}
}

func testLargeWrite(t *testing.T, wrap func(net.Conn) net.Conn) {
	c, peer := pairWith(t, wrap)
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(len(data))))
		got <- b
	}()
	if n, err := c.Write(data); err != nil || n != len(data) {
		t.Fatalf("write = %d, %v", n, err)
	}
	b := <-got
	if len(b) != len(data) {
		t.Fatalf("peer read %d bytes, want %d", len(b), len(data))
	}
	for i := range b {
		if b[i] != data[i] {
			t.Fatalf("byte %d = %d, want %d", i, b[i], data[i])
		}
	}
}

// TestRawIOWaitsForDataAndSeesTheEnd: a raw read waits (through Go's poller) for data that
// arrives later, and reports io.EOF once the peer has closed.
func TestRawIOWaitsForDataAndSeesTheEnd(t *testing.T) {
	c, peer := pairWith(t, RawIO)
	if runtime.GOOS == "linux" {
		if _, ok := c.(*rawConn); !ok {
			t.Fatalf("RawIO gave a %T, want *rawConn", c)
		}
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		peer.Write([]byte("late"))
		peer.Close()
	}()
	readWithin(t, c, "late", 5*time.Second)
	if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed = %d, %v; want 0, EOF", n, err)
	}
}
