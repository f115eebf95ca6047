// Package child runs a test binary again as a child process, for tests
// that need a second process (a lock holder, a process without D-Bus). The
// test package's TestChildProcess does the work of the mode it is given;
// child imports nothing of this module, so any package's tests may use it.
package child

import (
	"os"
	"os/exec"
)

// Command is the test binary run again with only TestChildProcess, and
// with mode in the environment variable env and the extra variables added.
func Command(env, mode string, extra ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{env + "=" + mode}, extra...)...)
	cmd.Stderr = os.Stderr
	return cmd
}
