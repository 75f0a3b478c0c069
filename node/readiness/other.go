//go:build !linux

package readiness

import (
	"errors"
	"syscall"
)

type pollerImpl struct{}

// New reports that this platform has no Poller; callers keep plain connections.
func New() (*Poller, error) { return nil, errors.New("readiness: no epoll on this platform") }

func (pollerImpl) register(fd, gen int32) error { return errors.New("unsupported") }
func (pollerImpl) run(func([]event))            {}
func (pollerImpl) close() error                 { return nil }

// rawCalls says rawRead and rawWrite do not work here: RawIO and Wrap keep plain
// connections, so these are never called.
const rawCalls = false

func rawRead(uintptr, []byte) (int, syscall.Errno)  { return 0, syscall.ENOSYS }
func rawWrite(uintptr, []byte) (int, syscall.Errno) { return 0, syscall.ENOSYS }
