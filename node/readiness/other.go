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

// No gate exists on this platform (New fails), so these are never called.
func rawRead(uintptr, []byte) (int, syscall.Errno)  { return 0, syscall.ENOSYS }
func rawWrite(uintptr, []byte) (int, syscall.Errno) { return 0, syscall.ENOSYS }
