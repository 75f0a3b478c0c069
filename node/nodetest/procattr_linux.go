package nodetest

import "syscall"

// procAttr puts a child in its own process group, so a Ctrl-C in the terminal running the
// tests does not reach it before the test's cleanup stops it, and has the kernel kill it
// when the test process dies: a test binary killed by its timeout or by a signal never
// leaves a server (or a redis-benchmark hammering one) running.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
