//go:build windows

package execcmd

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

func run(path string, argv []string, env []string, stdin, stdout, stderr *os.File) (int, error) {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	// The console sends Ctrl-C to COMMAND too: it decides, we wait for it.
	signal.Ignore(os.Interrupt)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}
