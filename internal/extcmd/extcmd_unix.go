//go:build unix

package extcmd

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/term"
)

func sameName(a, b string) bool { return a == b }

// ownGroup puts the command in a process group of its own, so that on
// timeout the command and everything it started (a shell's children, a
// gpg agent prompt) are killed together. Not when stdin is a terminal: a
// command in another process group that reads the terminal (pinentry,
// `pass` asking for a gpg passphrase) would be stopped by SIGTTIN; there
// the command alone is killed and the user has Ctrl-C.
func ownGroup(cmd *exec.Cmd) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The group's id is the command's pid (Setpgid with Pgid 0).
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
