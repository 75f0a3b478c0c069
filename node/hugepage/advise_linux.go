package hugepage

import "syscall"

func advise(r region) error {
	// madvise on a range that is no longer mapped (the runtime unmapped it since maps was
	// read) fails with ENOMEM and changes nothing: harmless.
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r.Start, r.End-r.Start, syscall.MADV_HUGEPAGE)
	if errno != 0 && errno != syscall.ENOMEM {
		return errno
	}
	return nil
}
