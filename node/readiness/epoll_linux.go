package readiness

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// rawCalls says rawRead and rawWrite work here.
const rawCalls = true

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
	// One RawConn.Read for the poller's whole life: Read forgets the set's readiness
	// each time it starts, so a fresh Read after every dispatch would have to poll the
	// set once more before it could park, an epoll_pwait that finds nothing on almost
	// every turn. Within one Read, readiness that arrives while the callback dispatches
	// is kept and ends the park at once.
	pi.raw.Read(func(fd uintptr) bool {
		for {
			n, err := epollWaitNow(int(fd), events)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				return true // closed
			}
			if n > 0 {
				ready = ready[:0]
				for _, ev := range events[:n] {
					ready = append(ready, event{fd: ev.Fd, gen: ev.Pad})
				}
				dispatch(ready)
			}
			// Fewer events than room for them: the set's ready list is empty, and the
			// next event makes the set readable again. Park until then.
			if n < len(events) {
				return false
			}
		}
	})
}

func (pi *pollerImpl) close() error { return pi.file.Close() }

// epollWaitNow polls the set without blocking, as a raw system call (see the package doc).
func epollWaitNow(epfd int, events []syscall.EpollEvent) (int, error) {
	r, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

func rawRead(fd uintptr, b []byte) (int, syscall.Errno) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), errno
}

func rawWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	r, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), errno
}
