// Package cli is the command core of veeam-credential-helper's three
// programs: the global flags and what they resolve to (configuration path,
// profile), the command table's types, Run (parse, dispatch, report, exit
// code, the panic guard), and the one implementation of the commands that
// read the cache: get, exec-credential and git.
//
// Those commands ask a Source for credentials. The engine
// (cmd/internal/commands) passes one that always answers, from the cache or
// the server; the front (cmd/veeam-credential-helper) passes one that
// answers cache hits and says ErrMiss for everything else, and then execs
// the engine with the same arguments and stdin. The package stays as light
// as the front: no HTTP, TLS or keyring code (helper/hit's
// TestLinksNoEngine checks the front's imports).
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Environment variables that stand in for global flags.
const (
	EnvConfig  = "VEEAM_CREDENTIAL_HELPER_CONFIG"
	EnvProfile = "VEEAM_PROFILE"
)

// Globals are the flags every command takes, before or after its name.
type Globals struct {
	// Config is --config: the configuration file.
	Config string
	// Profile is -p/--profile: the profile's name.
	Profile string
	// Debug is --debug: debug lines on stderr.
	Debug bool
}

// Register adds the global flags to fs.
func (g *Globals) Register(fs *flag.FlagSet) {
	fs.StringVar(&g.Config, "config", g.Config, "read the configuration from `PATH` (env "+EnvConfig+")")
	fs.StringVar(&g.Profile, "profile", g.Profile, "use the profile `NAME` (env "+EnvProfile+")")
	fs.StringVar(&g.Profile, "p", g.Profile, "short for --profile")
	fs.BoolVar(&g.Debug, "debug", g.Debug, "debug lines on stderr (never secrets)")
}

// ConfigPath is the configuration file: --config, else
// $VEEAM_CREDENTIAL_HELPER_CONFIG, else DefaultConfigPath().
func (g Globals) ConfigPath(getenv func(string) string) string {
	if g.Config != "" {
		return g.Config
	}
	if p := getenv(EnvConfig); p != "" {
		return p
	}
	return DefaultConfigPath()
}

// DefaultConfigPath is config.DefaultConfigPath, which the front does not
// link (TestDefaultConfigPath holds them equal).
func DefaultConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "veeam-credential-helper", "config.toml")
}

// ProfileName is -p, else $VEEAM_PROFILE, else "" (default_profile or the
// only profile).
func (g Globals) ProfileName(getenv func(string) string) string {
	if g.Profile != "" {
		return g.Profile
	}
	return getenv(EnvProfile)
}

// GetFlags are `get`'s own flags.
type GetFlags struct {
	// Format is --format, one of protocol.Formats().
	Format string
	// MinValid is --min-valid.
	MinValid time.Duration
	// ForceRefresh is --force-refresh.
	ForceRefresh bool
	// NoStdin is --no-stdin.
	NoStdin bool
}

// Register adds `get`'s flags to fs.
func (o *GetFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.Format, "format", protocol.FormatJSON, "answer in `FORMAT`: "+strings.Join(protocol.Formats(), " | "))
	fs.DurationVar(&o.MinValid, "min-valid", 0, "the token must stay valid at least `DUR` (e.g. 5m)")
	fs.BoolVar(&o.ForceRefresh, "force-refresh", false, "renew the token even when the cached one is good")
	// A script's loop (`while read …; do … get …; done < list`) or a parent
	// that leaves stdin open must not lose its input to, or hang, `get`.
	fs.BoolVar(&o.NoStdin, "no-stdin", false, "do not read a JSON request from stdin (it may stay open and unread)")
}

// maxMinValidSeconds (ten years) is more than any token lives.
const maxMinValidSeconds = 10 * 365 * 24 * 3600

// ApplyRequest is what a JSON request on stdin changes of `get`: its profile
// unless -p/--profile named one, its min_valid_seconds (clamped so a huge
// value cannot overflow into "no minimum"), force_refresh.
func ApplyRequest(jr protocol.Request, profileFlag string, profile *string, o *GetFlags) {
	if jr.Profile != "" && profileFlag == "" {
		*profile = jr.Profile
	}
	if jr.MinValidSeconds != nil {
		o.MinValid = time.Duration(min(*jr.MinValidSeconds, maxMinValidSeconds)) * time.Second
	}
	o.ForceRefresh = o.ForceRefresh || jr.ForceRefresh
}

// Guard runs f and returns its exit code; a panic becomes one line on
// stderr and exit code 1, never a stack, which could hold a secret.
func Guard(stderr io.Writer, f func() int) (code int) {
	defer func() {
		if recover() != nil {
			fmt.Fprintln(stderr, "veeam-credential-helper: internal error (please report it with --debug output)")
			code = exitcode.Unexpected
		}
	}()
	return f()
}

// Report writes err as one line on stderr and returns its exit code; an
// error without a message (exec's COMMAND failed and said so itself)
// writes nothing.
func Report(stderr io.Writer, err error) int {
	e := exitcode.AsError(err)
	if e.Msg != "" {
		fmt.Fprintf(stderr, "veeam-credential-helper: %s\n", e.Msg)
	}
	return e.Exit
}

// FindSibling finds the program name (".exe" added on Windows) installed
// next to this executable (symlinks resolved, so a link in a bin directory
// finds the real installation), else on PATH. The error is exec.LookPath's.
func FindSibling(name string) (string, error) {
	file := name
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		p := filepath.Join(filepath.Dir(self), file)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return exec.LookPath(name)
}
