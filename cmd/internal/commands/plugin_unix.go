//go:build unix

package commands

import (
	"os"
	"syscall"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// execPlugin replaces this process: the host keeps talking to the same PID.
func execPlugin(bin string, argv []string) error {
	err := syscall.Exec(bin, argv, os.Environ())
	return &exitcode.Error{Exit: exitcode.Unexpected, Msg: "cannot run " + bin + ": " + err.Error()}
}
