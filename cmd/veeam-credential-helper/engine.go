package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
)

// engineBinary is the full program, installed next to this one.
const engineBinary = "veeam-credential-helper-engine"

// findEngine looks next to this executable, then on PATH.
func findEngine() (string, error) {
	if p, err := cli.FindSibling(engineBinary); err == nil {
		return p, nil
	}
	return "", errors.New(engineBinary + " is not installed next to veeam-credential-helper nor on PATH: " +
		"install both (go install github.com/veeam-tools/veeam-credential-helper/cmd/...@latest, or unpack the whole release archive)")
}

// runEngine hands the call to the engine and returns the exit code to
// exit with (on Unix it returns only if the engine cannot be started).
func runEngine(argv []string, stdin []byte) int {
	path, err := findEngine()
	if err == nil {
		err = execEngine(path, argv, stdin)
	}
	fmt.Fprintf(os.Stderr, "veeam-credential-helper: %v\n", err)
	return 1
}
