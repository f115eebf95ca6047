//go:build unix

package execcmd

import (
	"os"
	"syscall"
)

func run(path string, argv []string, env []string, _, _, _ *os.File) (int, error) {
	// exec(2): COMMAND takes over this PID, its signals and its exit
	// status; the file descriptors Go opened are close-on-exec.
	return 0, syscall.Exec(path, argv, env)
}
