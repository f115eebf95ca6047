// Package hit answers a cache hit and nothing else: the configuration, the
// profile's entry read from the file or keyctl store, the freshness rule.
// It links no HTTP, TLS or OS-keychain code, so that the front program
// (cmd/veeam-credential-helper) starts nearly as fast as an empty Go program;
// every other case is the engine's (package helper).
//
// Lookup never fails: anything but a clean hit, including every error, is
// a miss, and the engine then does the same work again and reports what it
// finds with its own words and exit code.
package hit

import (
	"os"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Lookup returns p's cached entry when it is good for minValid (and the
// profile's refresh_before) at now, as helper.Helper.Get would answer it
// from the cache with no warning and no debug line.
func Lookup(cfg *config.Config, p *config.Profile, minValid time.Duration, now time.Time) (cache.Entry, bool) {
	if !Eligible(p) || passphraseFromCommand(cfg.Cache) {
		return cache.Entry{}, false
	}
	dir := cfg.Cache.Dir
	if dir == "" {
		dir = cache.DefaultDir()
	}
	if cache.EnsureDir(dir) != nil {
		return cache.Entry{}, false
	}
	// Interactive false: a passphrase prompt is the engine's business.
	st, err := cache.Open(cache.Config{
		Backend:           cfg.Cache.Backend,
		Dir:               dir,
		PassphraseEnv:     cfg.Cache.PassphraseEnv,
		PassphraseCommand: cfg.Cache.PassphraseCommand,
	})
	if err != nil { // a keychain backend (cache.ErrNeedsKeychain), or broken
		return cache.Entry{}, false
	}
	b, err := st.Get(p.CacheKey())
	if err != nil {
		return cache.Entry{}, false
	}
	e, err := cache.DecodeEntry(b)
	if err != nil || !p.Fresh(e, minValid, now) {
		return cache.Entry{}, false
	}
	return e, true
}

// Eligible reports whether a hit for p can be answered without the engine:
// not a static API key (read from its source on every call), and not a
// connection the engine warns about on every call (insecure_skip_verify,
// plain http).
func Eligible(p *config.Profile) bool {
	return !p.Static() && !p.InsecureSkipVerify && !p.PlainHTTP()
}

// passphraseFromCommand reports whether the file store's passphrase would
// come from cache.passphrase_command (its variable unset). The engine runs
// that command on every call that reads the cache: run here too, it would
// run twice on a miss (its stderr twice, a pinentry prompt twice), so such
// a call is the engine's, hit or not. The keyctl backend needs no passphrase.
func passphraseFromCommand(c config.CacheConfig) bool {
	if len(c.PassphraseCommand) == 0 || strings.EqualFold(strings.TrimSpace(c.Backend), cache.BackendKeyctl) {
		return false
	}
	env := c.PassphraseEnv
	if env == "" {
		env = cache.DefaultPassphraseEnv
	}
	return os.Getenv(env) == ""
}
