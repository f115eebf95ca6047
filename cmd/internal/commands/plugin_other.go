//go:build !unix

package commands

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// execPlugin runs the plugin binary as a child on the same stdio (there is
// no exec(2) here) and exits with its status. Interrupts are left to the
// child, as go-plugin expects.
func execPlugin(bin string, argv []string) error {
	signal.Ignore(os.Interrupt)
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		return &exitcode.Error{Exit: exitcode.Unexpected, Msg: "cannot run " + bin + ": " + err.Error()}
	}
	os.Exit(0)
	return nil
}
