package readiness

import (
	"syscall"
	"unsafe"
)

// rawCalls says rawRead and rawWrite work here.
const rawCalls = true

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

// shutdownRead ends the socket's read side: a read waiting on it wakes and reports the end.
func shutdownRead(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RD) }
