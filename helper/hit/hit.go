// Package hit is the cache-hit fast path, and the only place in the tree
// written for speed rather than for plain reading.
//
// Why: kubectl runs the helper before every command and git before every
// fetch, so a cache hit is a whole process started thousands of times an
// hour, and what it costs is mostly what any Go process pays to start plus
// whatever it links and reads. The front program (cmd/veeam-credential-helper)
// answers hits with this package alone: it links no TOML, HTTP, TLS or
// OS-keychain code and no encoding/json reflection, and it never parses the
// configuration file. It reads the profile it needs from an index of the
// configuration that the engine compiles after every full validation (see
// index.go), trusted only while the file is unchanged, so a hit costs the
// same with 1,000 profiles as with one. Its readers are small and strict:
// exact keys, no case folding, anything unexpected is a miss. A miss is
// never an error here: the engine (package helper and
// cmd/veeam-credential-helper-engine) does the whole work again with the
// standard library and reports what it finds with its own words and exit
// code. Tests hold the two to the same answers on valid input.
package hit

import (
	"os"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Profile is what a hit needs of one validated profile.
type Profile struct {
	Name, Product, URL, Username, Grant, ClientID, APIVersion string
	RefreshBefore                                             time.Duration
	// Engine: a hit of this profile is the engine's to answer (a static API
	// key, read from its source on every call, or a connection the engine
	// warns about on every call).
	Engine bool
	// GitKeys are the "scheme://host:port" keys git requests for this
	// profile have (see GitKey); only Save reads them.
	GitKeys []string
}

// Identity is the name the server knows the profile by.
func (p *Profile) Identity() string {
	if p.Username != "" {
		return p.Username
	}
	return p.ClientID
}

// CacheKey is the key of the profile's cached session.
func (p *Profile) CacheKey() string {
	return cache.Key(p.Product, p.URL, p.Username, p.Grant, p.ClientID, p.APIVersion)
}

// Credential is the answer of `get` for entry e.
func (p *Profile) Credential(e cache.Entry) protocol.Credential {
	return protocol.Credential{Profile: p.Name, Product: p.Product, URL: p.URL, Username: p.Identity(),
		TokenType: "Bearer", AccessToken: e.AccessToken, ExpiresAt: e.ExpiresAt, Source: "cache"}
}

// CacheConfig is what a hit needs of the [cache] table.
type CacheConfig struct {
	Backend, Dir, PassphraseEnv string
	// PassphraseCommand: cache.passphrase_command is set. The engine runs it
	// on every call that reads a file store without the passphrase in its
	// variable; run here too, it would run twice on a miss (its stderr
	// twice, a pinentry prompt twice), so such a call is the engine's.
	PassphraseCommand bool
	// MaxAge is how long a copy is answered after the fleet last confirmed
	// it (cache.local_max_age of the etcd backend, whose local level is
	// Backend); -1 means no limit.
	MaxAge time.Duration
}

// Lookup returns p's cached entry when it is good for max(minValid,
// refresh_before) at now, as the engine would answer it from the cache with
// no warning and no debug line.
func Lookup(c CacheConfig, p *Profile, minValid time.Duration, now time.Time) (cache.Entry, bool) {
	if p.Engine || needsPassphraseCommand(c) {
		return cache.Entry{}, false
	}
	dir := c.Dir
	if dir == "" {
		dir = cache.DefaultDir()
	}
	if cache.EnsureDir(dir) != nil {
		return cache.Entry{}, false
	}
	// Interactive false: a passphrase prompt is the engine's business.
	st, err := cache.Open(cache.Config{Backend: c.Backend, Dir: dir, PassphraseEnv: c.PassphraseEnv, ItemJSON: itemJSON{}})
	if err != nil { // a keychain backend (cache.ErrNeedsKeychain), or broken
		return cache.Entry{}, false
	}
	b, err := st.Get(p.CacheKey())
	if err != nil {
		return cache.Entry{}, false
	}
	e, ok := decodeEntry(b)
	if !ok || !e.FreshFor(max(p.RefreshBefore, minValid), now) {
		return cache.Entry{}, false
	}
	if age := now.Sub(e.CheckedAt); c.MaxAge >= 0 && (e.CheckedAt.IsZero() || age < 0 || age >= c.MaxAge) {
		return cache.Entry{}, false
	}
	return e, true
}

func needsPassphraseCommand(c CacheConfig) bool {
	if !c.PassphraseCommand || c.Backend == cache.BackendKeyctl {
		return false
	}
	env := c.PassphraseEnv
	if env == "" {
		env = cache.DefaultPassphraseEnv
	}
	return os.Getenv(env) == ""
}
