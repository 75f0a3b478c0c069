//go:build !linux

package readiness

import "syscall"

// rawCalls says rawRead and rawWrite do not work here: RawIO and Stream keep plain
// connections, so these are never called.
const rawCalls = false

func rawRead(uintptr, []byte) (int, syscall.Errno)  { return 0, syscall.ENOSYS }
func rawWrite(uintptr, []byte) (int, syscall.Errno) { return 0, syscall.ENOSYS }
func shutdownRead(uintptr)                          {}
