package readiness

import (
	"io"
	"iter"
	"net"
	"sync"
)

// Stream returns conn read so that a read never has to fail before it may wait (see the
// package doc), or conn itself when it has no socket descriptor or the platform has no raw
// calls. Reads and writes are raw system calls, as with RawIO.
//
// A Stream must be closed through its Close: a close of the connection underneath would
// wait for the reader, which holds the socket between reads.
func Stream(conn net.Conn) net.Conn {
	rc := newRawConn(conn)
	if rc == nil {
		return conn
	}
	c := &streamConn{rawConn: rc}
	c.next, c.stop = iter.Pull(c.reads)
	return c
}

// streamConn reads through one RawConn.Read held for as long as the connection is read.
// RawConn.Read forgets the socket's readiness each time it starts: a Read that has seen
// the socket drained cannot wait for the next arrival without first trying a read, which
// fails. Within one RawConn.Read the readiness Go's poller records is kept, so after a
// read that drained the socket the next one waits first and reads once data is there.
// To keep that one RawConn.Read open across the caller's Reads, its loop runs as a
// coroutine (iter.Pull) that hands each read's result to Read and is resumed by the next.
type streamConn struct {
	*rawConn

	// mu keeps Reads and Close apart: the coroutine must be resumed (next) or ended
	// (stop) by one goroutine at a time. buf, n and err pass a Read's buffer and result
	// between Read and the coroutine.
	mu   sync.Mutex
	next func() (struct{}, bool)
	stop func()
	buf  []byte
	n    int
	err  error

	closeOnce sync.Once
}

func (c *streamConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = b
	if _, ok := c.next(); !ok {
		c.buf = nil
		return 0, net.ErrClosed
	}
	n, err := c.n, c.err
	c.buf, c.err = nil, nil
	return n, err
}

// reads is the coroutine: it makes the reads Read asks for, inside RawConn.Read, and
// yields after each one. It starts a new RawConn.Read only when one ends with an error
// (a deadline, or the socket closed under it), and returns when stopped.
func (c *streamConn) reads(yield func(struct{}) bool) {
	stopped := false
	// waitFirst: the last read drained the socket, so the next one waits for readiness
	// before reading. A fresh RawConn.Read has forgotten readiness and must read first.
	waitFirst := false
	readFn := func(fd uintptr) bool {
		for {
			if waitFirst {
				waitFirst = false
				return false
			}
			n, again, err := readNow(fd, c.buf)
			if again {
				return false
			}
			if err == nil && n == 0 {
				err = io.EOF
			}
			c.n, c.err = n, err
			// A read that filled the buffer may have left data behind, for which no new
			// readiness will come.
			waitFirst = err == nil && n < len(c.buf)
			if !yield(struct{}{}) {
				stopped = true
				return true
			}
		}
	}
	for !stopped {
		waitFirst = false
		if err := c.raw.Read(readFn); err != nil {
			c.n, c.err = 0, err
			if !yield(struct{}{}) {
				return
			}
		}
	}
}

// Close ends the coroutine, and with it its hold on the socket, then closes the socket.
// A Read waiting for data meanwhile is woken by shutting the socket's read side first.
func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		c.raw.Control(shutdownRead)
	})
	c.mu.Lock()
	c.stop()
	c.mu.Unlock()
	return c.rawConn.Close()
}
