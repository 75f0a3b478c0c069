//go:build unix

package config

import (
	"sync"
	"syscall"
)

var (
	umaskOnce sync.Once
	umaskVal  int
)

// currentUmask returns the process's umask, read once (reading it means setting it, so it
// is done a single time, as Redis reads it once at start-up).
func currentUmask() int {
	umaskOnce.Do(func() {
		umaskVal = syscall.Umask(0o022)
		syscall.Umask(umaskVal)
	})
	return umaskVal
}
