// Package testenv builds the real binary once and runs it against the
// emulator in a throwaway home: one fake server setup serves every
// process-level test (cmd, integrations).
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/veeam-credential-helper and, next to it,
// cmd/veeam-credential-helper-plugin once per test process (with -race when
// the tests run with it) and returns the first one's path.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Build is Binary for code that has no testing.TB (Example functions).
func Build() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vch-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "veeam-credential-helper")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		// The front execs veeam-credential-helper-engine, and the engine's
		// `plugin` command veeam-credential-helper-plugin, from the same
		// directory: build all three there (go build -o DIR/ writes each).
		args := []string{"build", "-o", dir + string(filepath.Separator)}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/veeam-tools/veeam-credential-helper/cmd/veeam-credential-helper",
			"github.com/veeam-tools/veeam-credential-helper/cmd/veeam-credential-helper-engine",
			"github.com/veeam-tools/veeam-credential-helper/cmd/veeam-credential-helper-plugin")
		cmd := exec.Command("go", args...)
		cmd.Dir = moduleRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	return binPath, buildErr
}

// Engine is veeam-credential-helper-engine, built next to Binary: the
// program the front hands every call it does not answer itself.
func Engine(t testing.TB) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(Binary(t)), "veeam-credential-helper-engine")
	if runtime.GOOS == "windows" {
		p += ".exe"
	}
	return p
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Env is one throwaway home: a config file, a cache dir, an environment.
type Env struct {
	T          testing.TB
	Dir        string
	ConfigPath string
	CacheDir   string
	Vars       map[string]string // environment for the binary (besides PATH etc.)
	Emulators  map[string]*emulator.Emulator
	Config     Config // as last written by Write
}

// Passphrase is the file-backend passphrase every Env uses.
const Passphrase = "test-passphrase-Zq81"

// New makes a home with the file backend and no profiles yet.
func New(t testing.TB) *Env {
	t.Helper()
	dir := t.TempDir()
	e := &Env{T: t, Dir: dir, ConfigPath: filepath.Join(dir, "config.toml"), CacheDir: filepath.Join(dir, "cache"),
		Vars: map[string]string{"VEEAM_CREDENTIAL_HELPER_PASSPHRASE": Passphrase}, Emulators: map[string]*emulator.Emulator{}}
	return e
}

// Emulator starts (once per product) a TLS emulator and writes its CA to the home.
func (e *Env) Emulator(opts emulator.Options) *emulator.Emulator {
	e.T.Helper()
	key := opts.Product
	if em := e.Emulators[key]; em != nil {
		return em
	}
	opts.TLS = true
	em, err := emulator.New(opts)
	if err != nil {
		e.T.Fatal(err)
	}
	e.T.Cleanup(em.Close)
	if err := os.WriteFile(e.CAFile(key), em.CACertPEM(), 0o600); err != nil {
		e.T.Fatal(err)
	}
	e.Emulators[key] = em
	return em
}

// CAFile is where the product emulator's CA certificate is written.
func (e *Env) CAFile(product string) string { return filepath.Join(e.Dir, product+"-ca.pem") }

// Result is one process run.
type Result struct {
	Stdout, Stderr string
	Exit           int
	Duration       time.Duration
}

// Run runs the binary with args, stdin (nil: /dev/null) and the Env's variables.
func (e *Env) Run(stdin string, args ...string) Result {
	e.T.Helper()
	return e.RunContext(context.Background(), stdin, args...)
}

// Command prepares the binary with the Env's config and environment.
func (e *Env) Command(ctx context.Context, args ...string) *exec.Cmd {
	return e.CommandOf(ctx, Binary(e.T), args...)
}

// CommandOf is Command for another program (Engine, a copy of Binary).
func (e *Env) CommandOf(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", e.ConfigPath}, args...)...)
	cmd.Env = e.Environ()
	return cmd
}

// Environ is a minimal environment: no inherited VEEAM_* or proxy variables.
func (e *Env) Environ() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.Dir, "XDG_CONFIG_HOME=" + filepath.Join(e.Dir, "xdg-config"),
		"XDG_CACHE_HOME=" + filepath.Join(e.Dir, "xdg-cache"), "VEEAM_CREDENTIAL_HELPER_CONFIG=" + e.ConfigPath}
	if raceEnabled {
		// A race-built binary sleeps 1s before a zero exit (GORACE
		// atexit_sleep_ms defaults to 1000): that was most of every
		// process-level test's time under -race. Races are still reported
		// (exit 66).
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	for k, v := range e.Vars {
		env = append(env, k+"="+v)
	}
	return env
}

// RunContext is Run with a context (a hung process is killed when it ends).
func (e *Env) RunContext(ctx context.Context, stdin string, args ...string) Result {
	e.T.Helper()
	return e.RunOf(ctx, Binary(e.T), stdin, args...)
}

// RunOf is RunContext for another program (Engine, a copy of Binary).
func (e *Env) RunOf(ctx context.Context, bin, stdin string, args ...string) Result {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := e.CommandOf(ctx, bin, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String(), Duration: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Exit = ee.ExitCode()
	} else if err != nil {
		e.T.Fatalf("run %v: %v", args, err)
	}
	return r
}
