//go:build linux

package nodump

import "syscall"

func disable() bool {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0)
	return errno == 0
}
