//go:build !linux

package nodetest

import "syscall"

// procAttr puts a child in its own process group, so a Ctrl-C in the terminal running the
// tests does not reach it before the test's cleanup stops it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
