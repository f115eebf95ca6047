// Package testenv builds the real binary once and runs it against the
// emulator in a throwaway home: one fake server setup serves every
// process-level test (cmd, integrations).
package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/veeam-credential-helper and, next to it, the engine and
// cmd/veeam-credential-helper-plugin (with -race when the tests run with
// it) and returns the first one's path. The build is shared: `go test ./...`
// runs the test processes of several packages at once, and each linking
// three race-instrumented programs of its own was a large part of the
// suite's time. One build per source tree, under a lock, serves them all.
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
	buildOnce.Do(func() { binPath, buildErr = sharedBuild() })
	return binPath, buildErr
}

// sharedBuild returns the front's path in a directory named by the hash of
// what the programs are built from, building them there unless another
// test process did.
func sharedBuild() (string, error) {
	key, err := sourceKey()
	if err != nil {
		return "", err
	}
	root := filepath.Join(os.TempDir(), "vch-testbin")
	if err := cache.EnsureDir(root); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	unlock, err := cache.NewFileLocker(root).Lock(ctx, key)
	if err != nil {
		return "", fmt.Errorf("waiting for another test process's build: %v", err)
	}
	defer unlock()
	dir := filepath.Join(root, key)
	front := filepath.Join(dir, exe("veeam-credential-helper"))
	now := time.Now()
	if _, err := os.Stat(front); err == nil {
		os.Chtimes(dir, now, now) // in use: not pruned
		return front, nil
	}
	pruneBuilds(root, key)
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// The front execs veeam-credential-helper-engine, and the engine's
	// `plugin` command veeam-credential-helper-plugin, from the same
	// directory: build all three there (go build -o DIR/ writes each).
	args := []string{"build", "-o", tmp + string(filepath.Separator)}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/veeam-tools/veeam-credential-helper/cmd/veeam-credential-helper",
		"github.com/veeam-tools/veeam-credential-helper/cmd/veeam-credential-helper-engine",
		"github.com/veeam-tools/veeam-credential-helper/cmd/veeam-credential-helper-plugin")
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return front, nil
}

// sourceKey hashes everything the programs are built from: the module's
// non-test Go files, go.mod, go.sum, the toolchain, the target, -race and
// the build settings of the environment.
func sourceKey() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s race=%v\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, raceEnabled)
	// The build settings the environment can change (go build reads them).
	for _, v := range []string{"GOFLAGS", "CGO_ENABLED", "GOEXPERIMENT", "GOAMD64", "GOARM64", "GOTOOLCHAIN"} {
		fmt.Fprintf(h, "%s=%q\n", v, os.Getenv(v))
	}
	root := moduleRoot()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) && name != "go.mod" && name != "go.sum" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:32], err
}

// pruneBuilds removes the builds of other source trees no test process
// used for two hours.
func pruneBuilds(root, keep string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if !e.IsDir() || e.Name() == keep || e.Name() == "locks" {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 2*time.Hour {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// Engine is veeam-credential-helper-engine, built next to Binary: the
// program the front hands every call it does not answer itself.
func Engine(t testing.TB) string {
	t.Helper()
	return filepath.Join(filepath.Dir(Binary(t)), exe("veeam-credential-helper-engine"))
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
	env = append(env, RaceEnv()...)
	for k, v := range e.Vars {
		env = append(env, k+"="+v)
	}
	return env
}

// RaceEnv is what a program built with -race needs in its environment not
// to sleep a second before a zero exit (GORACE atexit_sleep_ms defaults to
// 1000): that was most of every process-level test's time under -race.
// Races are still reported (exit 66). Nil without -race.
func RaceEnv() []string {
	if raceEnabled {
		return []string{"GORACE=atexit_sleep_ms=0"}
	}
	return nil
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
