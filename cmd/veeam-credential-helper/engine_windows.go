package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
)

// execEngine runs the engine as a child with this process's arguments,
// environment and stdio (stdin: what the front read, then the rest), and
// exits with its exit code: Windows has no exec.
func execEngine(path string, argv []string, stdin []byte) error {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Stdin = os.Stdin
	if stdin != nil {
		cmd.Stdin = io.MultiReader(bytes.NewReader(stdin), os.Stdin)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Ctrl-C reaches the whole console, the engine too: it answers it (one
	// line, exit code); the front must not exit before it does.
	signal.Ignore(os.Interrupt)
	err := cmd.Run()
	var ee *exec.ExitError
	if err == nil || errors.As(err, &ee) {
		os.Exit(cmd.ProcessState.ExitCode())
	}
	return err
}
