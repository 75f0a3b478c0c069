//go:build !linux

package readiness

import "errors"

type pollerImpl struct{}

// New reports that this platform has no Poller; callers keep plain connections.
func New() (*Poller, error) { return nil, errors.New("readiness: no epoll on this platform") }

func (pollerImpl) register(fd, gen int32) error { return errors.New("unsupported") }
func (pollerImpl) run(func([]event))            {}
func (pollerImpl) close() error                 { return nil }
