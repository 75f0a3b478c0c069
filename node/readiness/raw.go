package readiness

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// RawIO returns conn with its reads and writes made as raw system calls (see the package
// doc), or conn itself when it has no socket descriptor or the platform has no raw calls.
// Deadlines, Close and waiting for readability or writability still go through Go's
// poller. Clients that wait on one reply at a time (trib's) use it as they are: a round
// trip then costs no wake-up of the runtime's monitor thread.
func RawIO(conn net.Conn) net.Conn {
	if c := newRawConn(conn); c != nil {
		return c
	}
	return conn
}

// rawConn is a socket read and written with raw system calls through its syscall.RawConn.
type rawConn struct {
	net.Conn
	raw syscall.RawConn

	// rmu and wmu keep concurrent Reads (Writes) apart: each passes its buffer and result
	// to readOnce (writeOnce) through the fields below. readFn and writeFn are those
	// methods bound once, so that a call allocates no closure.
	rmu     sync.Mutex
	rbuf    []byte
	rn      int
	rerr    error
	readFn  func(fd uintptr) bool
	wmu     sync.Mutex
	wbuf    []byte
	wn      int
	werr    error
	writeFn func(fd uintptr) bool
}

// newRawConn wraps conn, or returns nil when it cannot be read with raw calls.
func newRawConn(conn net.Conn) *rawConn {
	if !rawCalls {
		return nil
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	c := &rawConn{Conn: conn, raw: raw}
	c.readFn, c.writeFn = c.readOnce, c.writeOnce
	return c
}

func (c *rawConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.rbuf, c.rn = b, 0         // RawConn.Read may fail before calling readOnce (a deadline, Close)
	err := c.raw.Read(c.readFn) // waits through Go's poller only if readOnce finds nothing
	n, rerr := c.rn, c.rerr
	c.rbuf, c.rerr = nil, nil
	if err == nil {
		err = rerr
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	return n, err
}

// readOnce makes one read; false asks RawConn.Read to wait for readability and call again.
func (c *rawConn) readOnce(fd uintptr) bool {
	n, again, err := readNow(fd, c.rbuf)
	if again {
		return false
	}
	c.rn, c.rerr = n, err
	return true
}

// readNow makes one read of fd into b, retrying when a signal interrupts it. again
// reports that the socket had nothing to read (EAGAIN): the caller waits for readability.
// A read of 0 bytes with no error is the end of the stream.
func readNow(fd uintptr, b []byte) (n int, again bool, err error) {
	for {
		n, errno := rawRead(fd, b)
		switch errno {
		case 0:
			return n, false, nil
		case syscall.EINTR:
		case syscall.EAGAIN:
			return 0, true, nil
		default:
			return 0, false, os.NewSyscallError("read", errno)
		}
	}
}

func (c *rawConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf, c.wn = b, 0
	err := c.raw.Write(c.writeFn) // waits for writability while the socket's buffer is full
	n, werr := c.wn, c.werr
	c.wbuf, c.werr = nil, nil
	if err == nil {
		err = werr
	}
	return n, err
}

// writeOnce writes what it can; false asks RawConn.Write to wait for writability.
func (c *rawConn) writeOnce(fd uintptr) bool {
	for c.wn < len(c.wbuf) {
		n, errno := rawWrite(fd, c.wbuf[c.wn:])
		switch errno {
		case 0:
			c.wn += n
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.werr = os.NewSyscallError("write", errno)
			return true
		}
	}
	return true
}

// SyscallConn gives the wrapped socket's descriptor (CLIENT LIST shows it).
func (c *rawConn) SyscallConn() (syscall.RawConn, error) { return c.raw, nil }
