package readiness

import (
	"fmt"
	"os"
	"syscall"
)

// epollET is EPOLLET as an event mask bit (syscall declares it as a negative int).
const epollET = 1 << 31

type pollerImpl struct {
	epfd int
	file *os.File        // epfd, registered with Go's network poller
	raw  syscall.RawConn // waits on file without blocking a thread
}

// New returns a Poller backed by an epoll set.
func New() (*Poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("epoll set non-blocking: %w", err)
	}
	// A non-blocking descriptor handed to os.NewFile joins Go's network poller, so that
	// RawConn.Read below parks the goroutine until the epoll set has events.
	file := os.NewFile(uintptr(epfd), "epoll")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("epoll raw conn: %w", err)
	}
	return &Poller{impl: pollerImpl{epfd: epfd, file: file, raw: raw}, gates: map[int32]*gate{}}, nil
}

func (pi *pollerImpl) register(fd, gen int32) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: fd, Pad: gen}
	if err := syscall.EpollCtl(pi.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev); err != nil {
		return fmt.Errorf("epoll_ctl add %d: %w", fd, err)
	}
	return nil
}

func (pi *pollerImpl) run(dispatch func([]event)) {
	events := make([]syscall.EpollEvent, 256)
	ready := make([]event, 0, len(events))
	for {
		var n int
		var werr error
		err := pi.raw.Read(func(fd uintptr) bool {
			n, werr = syscall.EpollWait(int(fd), events, 0)
			if werr == syscall.EINTR {
				n, werr = 0, nil
				return true
			}
			// false: nothing yet, so park until Go's poller sees the set readable.
			return n > 0 || werr != nil
		})
		if err != nil || werr != nil {
			return // closed
		}
		ready = ready[:0]
		for _, ev := range events[:n] {
			ready = append(ready, event{fd: ev.Fd, gen: ev.Pad})
		}
		dispatch(ready)
	}
}

func (pi *pollerImpl) close() error { return pi.file.Close() }
