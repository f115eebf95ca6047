package goplugin

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// The programs `PATH plugin` runs: the front hands every command to the
// engine, and the engine's `plugin` command runs the plugin server. Each is
// looked for next to the one before it, then on PATH.
const (
	frontProgram  = "veeam-credential-helper"
	engineProgram = "veeam-credential-helper-engine"
	pluginProgram = "veeam-credential-helper-plugin"
)

// checkPrograms reports, before anything is started, a program the plugin
// would not find: go-plugin would only say that the plugin exited or sent
// an unrecognized message. pathEnv is the PATH the plugin process gets.
func checkPrograms(path, pathEnv string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return fmt.Errorf("veeam-credential-helper plugin: %s is not a program (install cmd/... of veeam-credential-helper and give the path of veeam-credential-helper)", path)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".exe")
	var need []string
	switch name {
	case frontProgram:
		need = []string{engineProgram, pluginProgram}
	case engineProgram:
		need = []string{pluginProgram}
	}
	dir := filepath.Dir(path)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		dir = filepath.Dir(real)
	}
	for _, prog := range need {
		if !programIn(dir, pathEnv, prog) {
			return fmt.Errorf("veeam-credential-helper plugin: %s is not installed next to %s nor on PATH: the three programs of cmd/ go together (go install ./cmd/... from a checkout)", prog, path)
		}
	}
	return nil
}

// programIn reports whether prog is in dir or in one of pathEnv's directories.
func programIn(dir, pathEnv, prog string) bool {
	file := prog
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	for _, d := range append([]string{dir}, filepath.SplitList(pathEnv)...) {
		if d == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(d, file)); err == nil && !fi.IsDir() && (runtime.GOOS == "windows" || fi.Mode()&0o111 != 0) {
			return true
		}
	}
	return false
}

// pathOf is the PATH a plugin started with env (and the host's environment
// unless skipHostEnv) sees.
func pathOf(env []string, skipHostEnv bool) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v
		}
	}
	if skipHostEnv {
		return ""
	}
	return os.Getenv("PATH")
}

// stderrTail keeps the last lines the plugin wrote to stderr, so that a
// failed start reports the helper's own message.
type stderrTail struct {
	mu  sync.Mutex
	buf []byte
}

const stderrTailMax = 4 << 10

func (s *stderrTail) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	if len(s.buf) > stderrTailMax {
		s.buf = s.buf[len(s.buf)-stderrTailMax:]
	}
	return len(p), nil
}

// helperLine is the last line the helper itself wrote ("veeam-credential-helper: …"),
// else the last non-empty line.
func (s *stderrTail) helperLine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(string(bytes.TrimSpace(s.buf)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "veeam-credential-helper") {
			return strings.TrimSpace(lines[i])
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// withPluginStderr puts the plugin's own last line in front of go-plugin's error.
func withPluginStderr(err error, tail *stderrTail) error {
	line := tail.helperLine()
	if line == "" {
		return err
	}
	return fmt.Errorf("%s (%w)", line, err)
}
