//go:build linux

package nodump

import (
	"syscall"
	"testing"
)

func TestDisable(t *testing.T) {
	if !Disable() {
		t.Fatal("prctl(PR_SET_DUMPABLE, 0) failed")
	}
	v, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_DUMPABLE, 0, 0)
	if errno != 0 || v != 0 {
		t.Fatalf("PR_GET_DUMPABLE = %d (errno %v), want 0", v, errno)
	}
}
