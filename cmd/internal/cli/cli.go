// Package cli is what the front (cmd/veeam-credential-helper) and the engine
// (cmd/veeam-credential-helper-engine) must read and answer alike: the global
// flags, the JSON request's effect on `get`, and the credential answered. It
// stays as light as the front (no HTTP, TLS or keyring code).
package cli

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Globals are the flags every command takes, before or after its name.
type Globals struct {
	Config  string
	Profile string
	Debug   bool
}

// Register adds the global flags to fs.
func (g *Globals) Register(fs *flag.FlagSet) {
	fs.StringVar(&g.Config, "config", g.Config, "read the configuration from `PATH` (env VEEAM_CREDENTIAL_HELPER_CONFIG)")
	fs.StringVar(&g.Profile, "profile", g.Profile, "use the profile `NAME` (env VEEAM_PROFILE)")
	fs.StringVar(&g.Profile, "p", g.Profile, "short for --profile")
	fs.BoolVar(&g.Debug, "debug", g.Debug, "debug lines on stderr (never secrets)")
}

// GetFlags are `get`'s own flags.
type GetFlags struct {
	Format       string
	MinValid     time.Duration
	ForceRefresh bool
	NoStdin      bool
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

// Credential is the answer of `get` for profile p's entry e.
func Credential(p *config.Profile, e cache.Entry, source string) protocol.Credential {
	return protocol.Credential{
		Profile:     p.Name,
		Product:     p.Product,
		URL:         p.URL,
		Username:    p.Identity(),
		TokenType:   "Bearer",
		AccessToken: e.AccessToken,
		ExpiresAt:   e.ExpiresAt,
		Source:      source,
	}
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
