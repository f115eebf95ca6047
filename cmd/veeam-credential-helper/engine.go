package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
)

// engineBinary is the full program, installed next to this one.
const engineBinary = "veeam-credential-helper-engine"

// findEngine looks next to this executable, then on PATH; under `go run` it
// builds the engine next to this executable.
func findEngine() (string, error) {
	if p, err := cli.FindSibling(engineBinary); err == nil {
		return p, nil
	}
	if p, ok := buildDevEngine(); ok {
		return p, nil
	}
	return "", errors.New(engineBinary + " is not installed next to veeam-credential-helper nor on PATH: " +
		"the three programs of cmd/ go together (from a checkout: go install ./cmd/...)")
}

// buildDevEngine: under `go run ./cmd/veeam-credential-helper` (this binary
// in Go's build cache or a go-build temporary directory, no engine beside
// it) the engine is built from the same module into the user's cache
// directory, so a checkout works without installing anything. go build
// relinks it on every such call, so it is never stale.
func buildDevEngine() (string, bool) {
	self, err := os.Executable()
	if err != nil || !strings.Contains(filepath.ToSlash(self), "/go-build") {
		return "", false
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Path == "" {
		return "", false
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", false
	}
	dir = filepath.Join(dir, "veeam-credential-helper", "go-run")
	if os.MkdirAll(dir, 0o700) != nil {
		return "", false
	}
	out := filepath.Join(dir, engineBinary)
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", out, bi.Main.Path+"/cmd/"+engineBinary)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if cmd.Run() != nil {
		return "", false
	}
	return out, true
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
