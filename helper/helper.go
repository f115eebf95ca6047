// Package helper is the token engine of veeam-credential-helper: secret
// sources and the cache → refresh → grant flow for the profiles of a
// configuration (package config). A Go program uses it as a library to get
// the same tokens the command line answers, from the same encrypted cache
// and under the same cross-process lock: Helper.Get for one answer,
// Helper.TokenSource for an oauth2.TokenSource (see Example).
//
// Errors are *exitcode.Error values carrying the command line's exit code
// and one-line message; a Result never holds the refresh token.
package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/cache/keychain"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/extcmd"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Version is the release version, set at build time with -ldflags "-X .../helper.Version=…".
var Version = "dev"

// BuildInfo returns version, commit and Go version.
func BuildInfo() (version, commit, goVersion string) {
	version, commit, goVersion = Version, "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
		if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	return
}

// Sources of an answer (Result.Source).
const (
	SourceCache   = "cache"   // read from the cache
	SourceRefresh = "refresh" // renewed by the refresh grant
	SourceGrant   = "grant"   // granted by the profile's primary grant
)

// Helper runs the flow for the profiles of one configuration.
type Helper struct {
	// Config is the configuration whose profiles Get answers.
	Config *config.Config
	// Stderr gets warnings and, with Debug, debug lines. Never secrets.
	Stderr io.Writer
	// Debug writes a line per decision (hit, refresh, grant) to Stderr.
	Debug bool
	// Prompt asks the user on a terminal; nil means no terminal: a missing
	// secret is then exit 5, never a hang.
	Prompt func(label string) (string, error)
	// Now is the clock (tests move it).
	Now func() time.Time

	// Store holds the cache entries; nil means the configured backend.
	Store cache.Store
	// Locker serializes renewals across processes; nil means lock files in the cache directory.
	Locker cache.Locker

	storeOnce sync.Once
	debugMu   sync.Mutex
	storeErr  error

	clientsMu sync.Mutex
	clients   map[string]*http.Client
	warned    map[string]bool // profiles warned about an unverified or plain-http connection
}

// New returns a Helper for cfg with stderr for warnings.
func New(cfg *config.Config) *Helper {
	return &Helper{Config: cfg, Stderr: os.Stderr, Now: time.Now}
}

// Request asks for a credential.
type Request struct {
	// Profile is the profile's name; "" means default_profile, else the only profile.
	Profile string
	// MinValid is how long the token must stay valid at least.
	MinValid time.Duration
	// ForceRefresh renews the token even when the cached one is good.
	ForceRefresh bool
	// Password, MFACode and Assertion are secrets given by the caller
	// (the JSON request on stdin), tried before the profile's sources.
	Password, MFACode, Assertion string
}

// Result is a usable access token and where it came from. It never holds
// the refresh token or the server's cookies: those stay in the cache.
type Result struct {
	// Profile is the profile the token is for.
	Profile *config.Profile
	// AccessToken is the bearer token for the profile's REST API.
	AccessToken string
	// TokenType is "Bearer": every Veeam REST API takes its tokens as bearer tokens.
	TokenType string
	// ExpiresAt is when the token expires; zero for a static API key.
	ExpiresAt time.Time
	// Source is SourceCache, SourceRefresh or SourceGrant.
	Source string
}

// Credential returns r as the wire type that `get` writes.
func (r *Result) Credential() protocol.Credential {
	p := r.Profile
	return protocol.Credential{
		Profile:     p.Name,
		Product:     p.Product,
		URL:         p.URL,
		Username:    p.Identity(),
		TokenType:   r.TokenType,
		AccessToken: r.AccessToken,
		ExpiresAt:   r.ExpiresAt,
		Source:      r.Source,
	}
}

// outcome is what the flow found for a profile: a Result with the cache entry
// it came from, whose refresh token and cookies stay in this package.
type outcome struct {
	p      *config.Profile
	entry  cache.Entry
	source string
}

func (f *outcome) result() *Result {
	return &Result{Profile: f.p, AccessToken: f.entry.AccessToken, TokenType: "Bearer", ExpiresAt: f.entry.ExpiresAt, Source: f.source}
}

func (h *Helper) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Helper) warnf(format string, args ...any) {
	if h.Stderr != nil {
		fmt.Fprintf(h.Stderr, "veeam-credential-helper: warning: %s\n", exitcode.OneLine(fmt.Sprintf(format, args...), 400))
	}
}

func (h *Helper) debugf(format string, args ...any) {
	if h.Debug && h.Stderr != nil {
		h.debugMu.Lock() // Statuses reads profiles in parallel
		defer h.debugMu.Unlock()
		fmt.Fprintf(h.Stderr, "veeam-credential-helper: debug: %s\n", exitcode.OneLine(fmt.Sprintf(format, args...), 400))
	}
}

// OpenCache opens the configured store and lock directory once.
func (h *Helper) OpenCache() (cache.Store, cache.Locker, error) {
	h.storeOnce.Do(func() {
		if h.Store != nil && h.Locker != nil {
			return
		}
		c := h.Config.Cache
		dir := c.Dir
		if dir == "" {
			dir = cache.DefaultDir()
		}
		if err := cache.EnsureDir(dir); err != nil {
			h.storeErr = cacheError(err)
			return
		}
		if c.Fleet() && h.Store == nil && h.Locker == nil {
			h.Store, h.Locker, h.storeErr = h.openFleet(dir)
			return
		}
		if h.Store == nil {
			st, err := keychain.Open(h.cacheConfig(c.Backend, dir))
			if err != nil {
				h.storeErr = cacheError(err)
				return
			}
			h.Store = st
		}
		if h.Locker == nil {
			h.Locker = cache.NewFileLocker(dir)
		}
	})
	return h.Store, h.Locker, h.storeErr
}

// cacheConfig is the configuration of the local cache backend in dir.
func (h *Helper) cacheConfig(backend, dir string) cache.Config {
	c := h.Config.Cache
	return cache.Config{
		Backend:           backend,
		Dir:               dir,
		PassphraseEnv:     c.PassphraseEnv,
		PassphraseCommand: c.PassphraseCommand,
		Interactive:       h.Prompt != nil,
		CommandTimeout:    h.longestTimeout(),
		CommandEnvDrop:    h.secretVariables(),
	}
}

// longestTimeout is the longest profile timeout: the bound of the cache's
// passphrase_command, which serves every profile.
func (h *Helper) longestTimeout() time.Duration {
	var d time.Duration
	for _, p := range h.Config.Profiles {
		d = max(d, p.Timeout.Duration)
	}
	if d == 0 {
		return config.DefaultTimeout
	}
	return d
}

func cacheError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, extcmd.ErrTimeout) {
		// passphrase_command timed out: a timeout, as a server's would be.
		return exitcode.Wrapf(exitcode.Unreachable, err, "token cache unavailable: %v", err)
	}
	if cache.IsUnavailable(err) {
		return exitcode.Wrapf(exitcode.Cache, err, "token cache unavailable: %v", err)
	}
	return exitcode.Wrapf(exitcode.Cache, err, "token cache: %v", err)
}

// load reads the profile's entry; a missing or unreadable entry is a miss.
func (h *Helper) load(st cache.Store, key string) (cache.Entry, bool, error) {
	b, err := st.Get(key)
	if errors.Is(err, cache.ErrNotFound) {
		return cache.Entry{}, false, nil
	}
	if err != nil {
		return cache.Entry{}, false, cacheError(err)
	}
	e, err := cache.DecodeEntry(b)
	if err != nil {
		h.debugf("cache entry unreadable: treated as a miss")
		return cache.Entry{}, false, nil
	}
	if e.AccessToken != "" && !usableToken(e.AccessToken) {
		// No output format can carry this token: treat it as expired, so
		// that it is renewed.
		h.debugf("cached access token unusable: treated as expired")
		e.AccessToken, e.ExpiresAt = "", time.Time{}
	}
	return e, true, nil
}

func (h *Helper) save(st cache.Store, key string, e cache.Entry) error {
	b, err := cache.EncodeEntry(e)
	if err != nil {
		return cacheError(err)
	}
	return cacheError(st.Set(key, b))
}

// fresh reports whether e is good for at least max(refresh_before, minValid).
func (h *Helper) fresh(p *config.Profile, e cache.Entry, minValid time.Duration) bool {
	return p.Fresh(e, minValid, h.now())
}

// Get returns an access token for the request's profile: from the cache,
// else by the refresh grant, else by the profile's primary grant. The lock
// is held from the re-read to the write so that one process talks to the
// server and the others reuse its answer.
func (h *Helper) Get(ctx context.Context, r Request) (*Result, error) {
	f, err := h.get(ctx, r)
	if err != nil {
		return nil, err
	}
	return f.result(), nil
}

func (h *Helper) get(ctx context.Context, r Request) (*outcome, error) {
	p, err := h.Config.Profile(r.Profile)
	if err != nil {
		return nil, err
	}
	// Also on a cache hit: the token came over that connection.
	h.warnTransport(p)
	if p.Static() {
		return h.static(ctx, p, r)
	}
	st, lk, err := h.OpenCache()
	if err != nil {
		return nil, err
	}
	key := p.CacheKey()
	if !r.ForceRefresh {
		// The hit path takes no lock and opens no connection.
		if e, ok, err := h.load(st, key); err != nil {
			return nil, err
		} else if ok && h.fresh(p, e, r.MinValid) {
			h.debugf("profile %q: cache hit, valid until %s", p.Name, e.ExpiresAt.UTC().Format(time.RFC3339))
			return &outcome{p, e, SourceCache}, nil
		}
	}

	// Get the store's passphrase now, before the lock: a passphrase_command
	// waiting for its user (pinentry) must not hold up every other caller of
	// this identity; and failing after the server opened a session would
	// waste a login (VB365 throttles logins).
	if u, ok := st.(cache.Unlocker); ok {
		if err := u.Unlock(); err != nil {
			return nil, cacheError(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Duration)
	defer cancel()
	// While another process holds the lock (it is running a grant), the
	// entry is read again between attempts: its fresh token is the answer.
	var renewed cache.Entry
	unlock, locked, err := cache.LockOr(ctx, lk, key, func() bool {
		e, ok, err := h.load(st, key)
		if err != nil || !ok || r.ForceRefresh || !h.fresh(p, e, r.MinValid) {
			return false
		}
		renewed = e
		return true
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, exitcode.Wrapf(exitcode.Unreachable, err, "profile %q: timed out after %s waiting for another process's login", p.Name, p.Timeout.Duration)
		}
		return nil, cacheError(err)
	}
	if !locked {
		h.debugf("profile %q: another process renewed the token", p.Name)
		return &outcome{p, renewed, SourceCache}, nil
	}
	defer unlock()

	e, found, err := h.load(st, key)
	if err != nil {
		return nil, err
	}
	if found && !r.ForceRefresh && h.fresh(p, e, r.MinValid) {
		h.debugf("profile %q: another process renewed the token", p.Name)
		return &outcome{p, e, SourceCache}, nil
	}
	s, err := h.clientFor(p, r)
	if err != nil {
		return nil, err
	}
	if found && e.RefreshToken != "" {
		h.debugf("profile %q: refresh grant", p.Name)
		// VBR and VB365 refresh tokens are single-use: the entry is written
		// without it before it is sent, so that whatever happens next (a
		// crash, a full disk, a kernel key quota) the cache never holds a
		// spent refresh token to replay.
		spent := e
		spent.RefreshToken = ""
		if err := h.save(st, key, spent); err != nil {
			if err := cacheError(st.Remove(key)); err != nil {
				// Neither written nor removed: sending it could leave it
				// behind for a replay.
				return nil, err
			}
		}
		ne, err := productOf(p).refresh(ctx, s, e)
		switch {
		case err == nil:
			if ne.RefreshToken == "" {
				// A server that does not rotate keeps the old one valid.
				ne.RefreshToken = e.RefreshToken
			}
			if err := h.checkFresh(p, ne, r.MinValid); err != nil {
				return nil, err
			}
			h.keep(st, key, p, ne)
			return &outcome{p, ne, SourceRefresh}, nil
		case exitcode.Of(err) == exitcode.Rejected:
			// The refresh token is dead: never send it again.
			h.debugf("profile %q: refresh token rejected, running the %s grant", p.Name, p.Grant)
			if err := cacheError(st.Remove(key)); err != nil {
				return nil, err
			}
		default:
			// Transient (the server answered an error, or nothing): the
			// refresh token was not spent; put it back for the next call.
			if err := h.save(st, key, e); err != nil {
				h.debugf("profile %q: the refresh token could not be put back: %v", p.Name, err)
			}
			if e.AccessToken != "" && e.ExpiresAt.After(h.now()) && !r.ForceRefresh {
				h.warnf("%v; answering the cached token, valid until %s", err, e.ExpiresAt.UTC().Format(time.RFC3339))
				return &outcome{p, e, SourceCache}, nil
			}
			return nil, err
		}
	}
	h.debugf("profile %q: %s grant", p.Name, p.Grant)
	ne, err := productOf(p).grant(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := h.checkFresh(p, ne, r.MinValid); err != nil {
		return nil, err
	}
	h.keep(st, key, p, ne)
	return &outcome{p, ne, SourceGrant}, nil
}

// keep stores a token the server just issued. When it cannot be stored
// (disk full, quota) the token is still answered, with one warning naming
// the cause, and the old entry is removed: it may hold a refresh token the
// server has rotated away.
func (h *Helper) keep(st cache.Store, key string, p *config.Profile, e cache.Entry) {
	err := h.save(st, key, e)
	if err == nil {
		return
	}
	also := ""
	if rerr := st.Remove(key); rerr != nil {
		also = "; the old entry could not be removed either"
	}
	h.warnf("profile %q: the new token could not be stored (%v)%s; answering it anyway: the next call logs in again", p.Name, err, also)
}

// checkFresh reports a freshly issued token that cannot serve the call:
// already expired is an error (the server's or this machine's clock is
// wrong); shorter-lived than refresh_before or --min-valid is answered with
// one warning, and Profile.Fresh keeps it while half its lifetime is left,
// so that callers do not renew it on every call.
func (h *Helper) checkFresh(p *config.Profile, e cache.Entry, minValid time.Duration) error {
	now := h.now()
	if !e.ExpiresAt.After(now) {
		return exitcode.Errorf(exitcode.Unreachable, "profile %q: the server answered a token that has already expired (valid until %s, this machine's clock says %s): check both clocks",
			p.Name, e.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	need, what := p.RefreshBefore.Duration, "refresh_before"
	if minValid > need {
		need, what = minValid, "--min-valid"
	}
	if life := e.ExpiresAt.Sub(e.IssuedAt); !e.IssuedAt.IsZero() && life <= need {
		h.warnf("profile %q: the server issues tokens valid for %s, not more than %s %s; answering it, and renewing it when half of that is left",
			p.Name, life.Round(time.Second), what, need)
	}
	return nil
}

// static answers a static key (VSPC API key) straight from its source: a
// rotated key takes effect at once and nothing is written to the cache.
func (h *Helper) static(ctx context.Context, p *config.Profile, r Request) (*outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Duration)
	defer cancel()
	s, err := h.clientFor(p, r)
	if err != nil {
		return nil, err
	}
	e, err := productOf(p).grant(ctx, s)
	if err != nil {
		return nil, err
	}
	if !usableToken(e.AccessToken) {
		return nil, exitcode.Errorf(exitcode.Usage, "profile %q: the API key holds control characters, spaces or non-ASCII: it cannot be sent as a bearer token", p.Name)
	}
	return &outcome{p, e, SourceGrant}, nil
}

// Invalidate drops the profile's cached access token but keeps its refresh
// token, so the next Get runs the refresh grant (git's `erase`).
func (h *Helper) Invalidate(ctx context.Context, profile string) error {
	return h.InvalidateToken(ctx, profile, "")
}

// InvalidateToken is Invalidate for one rejected token: when the cache holds
// another (already renewed by a concurrent caller) it is kept.
func (h *Helper) InvalidateToken(ctx context.Context, profile, token string) error {
	return h.locked(ctx, profile, true, func(ctx context.Context, p *config.Profile, st cache.Store) error {
		e, found, err := h.load(st, p.CacheKey())
		if err != nil || !found {
			return err
		}
		if token != "" && e.AccessToken != token {
			h.debugf("profile %q: the rejected token is no longer cached", p.Name)
			return nil
		}
		if e.RefreshToken == "" {
			return cacheError(st.Remove(p.CacheKey()))
		}
		e.AccessToken, e.ExpiresAt = "", time.Time{}
		return h.save(st, p.CacheKey(), e)
	})
}

// locked runs fn for the profile with the store open and the profile's
// lock held, within the profile's timeout.
// With unlock, the store's passphrase is fetched first, before the lock
// (see Get).
func (h *Helper) locked(ctx context.Context, profile string, unlock bool, fn func(context.Context, *config.Profile, cache.Store) error) error {
	p, err := h.Config.Profile(profile)
	if err != nil {
		return err
	}
	st, lk, err := h.OpenCache()
	if err != nil {
		return err
	}
	if u, ok := st.(cache.Unlocker); ok && unlock {
		if err := u.Unlock(); err != nil {
			return cacheError(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Duration)
	defer cancel()
	release, err := lk.Lock(ctx, p.CacheKey())
	if err != nil {
		return cacheError(err)
	}
	defer release()
	return fn(ctx, p, st)
}

// Logout revokes the server session (best effort) and deletes the cached
// tokens; with forgetSecret also the secret stored by `login`.
func (h *Helper) Logout(ctx context.Context, profile string, forgetSecret bool) error {
	return h.locked(ctx, profile, false, func(ctx context.Context, p *config.Profile, st cache.Store) error {
		key := p.CacheKey()
		e, found, err := h.load(st, key)
		if err != nil {
			// No passphrase, or not the one the cache was written with:
			// the session cannot be revoked, but the entry is deleted all
			// the same (that needs no passphrase).
			h.debugf("profile %q: cached entry unreadable (%v): not revoked on the server", p.Name, err)
			found = false
		}
		if found && e.AccessToken != "" && e.ExpiresAt.After(h.now()) {
			s, err := h.clientFor(p, Request{})
			if err == nil {
				err = productOf(p).logout(ctx, s, e)
			}
			if err != nil {
				h.warnf("profile %q: server logout failed (the cached tokens are deleted anyway): %v", p.Name, err)
			}
		}
		if err := cacheError(st.Remove(key)); err != nil {
			return err
		}
		if forgetSecret {
			return cacheError(st.Remove(secretKey(p)))
		}
		return nil
	})
}

// ClearUndecryptable is the reset `logout --all` ends with: it removes
// every cache item the available passphrase cannot open (all of them when
// there is no passphrase at hand), so that a cache written with a lost or
// mistyped passphrase can be used again. It needs no passphrase. Stores
// without one (keyctl, the keychains) have nothing to clear. It returns
// how many items were removed.
func (h *Helper) ClearUndecryptable() (int, error) {
	st, _, err := h.OpenCache()
	if err != nil {
		return 0, err
	}
	c, ok := st.(interface{ ClearUndecryptable() (int, error) })
	if !ok {
		return 0, nil
	}
	n, err := c.ClearUndecryptable()
	return n, cacheError(err)
}

// Status describes a profile's cache state without any secret; each field
// is the `status --json` key in its tag.
type Status struct {
	Profile             string    `json:"profile"`
	Product             string    `json:"product"`
	URL                 string    `json:"url"`
	Username            string    `json:"username,omitempty"`
	Grant               string    `json:"grant"`
	Backend             string    `json:"cache_backend"`
	ValidUntil          time.Time `json:"access_token_valid_until,omitempty"`
	Valid               bool      `json:"access_token_valid"`
	RefreshTokenPresent bool      `json:"refresh_token_present"`
	Static              bool      `json:"static_key,omitempty"` // a VSPC API key: no expiry, never cached
	SecretStored        bool      `json:"secret_stored"`
	Error               string    `json:"error,omitempty"`
	// Fleet is the etcd cluster's view (backend etcd only).
	Fleet *FleetStatus `json:"fleet,omitempty"`
}

// Statuses reports every profile, sorted by name.
func (h *Helper) Statuses() ([]Status, error) {
	st, _, err := h.OpenCache()
	if err != nil {
		return nil, err
	}
	names := h.Config.ProfileNames()
	out := make([]Status, len(names))
	// A file item costs a key derivation where the kernel keyring holds no
	// KEK for it (a user's key quota holds about a hundred): with many
	// profiles, read them on every CPU.
	workers := 1
	if st.Backend() == cache.BackendFile {
		workers = min(runtime.GOMAXPROCS(0), len(names))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(names); i = int(next.Add(1) - 1) {
				out[i] = h.status(st, h.Config.Profiles[names[i]])
			}
		}()
	}
	wg.Wait()
	h.fleetStatuses(st, out)
	return out, nil
}

func (h *Helper) status(st cache.Store, p *config.Profile) Status {
	s := Status{Profile: p.Name, Product: p.Product, URL: p.URL, Username: p.Identity(), Grant: p.Grant, Backend: st.Backend(), Static: p.Static()}
	e, found, err := h.load(st, p.CacheKey())
	if err != nil {
		s.Error = err.Error()
	} else if found {
		if e.AccessToken != "" {
			s.ValidUntil = e.ExpiresAt.UTC()
			s.Valid = e.ExpiresAt.After(h.now())
		}
		s.RefreshTokenPresent = e.RefreshToken != ""
	}
	s.SecretStored = cache.Has(st, secretKey(p))
	return s
}

// Login stores the profile's secret (password or assertion) in the
// keyring, then runs the primary grant with it to prove it works.
func (h *Helper) Login(ctx context.Context, profile, secret string) (*Result, error) {
	if secret == "" {
		return nil, exitcode.Errorf(exitcode.Interaction, "empty secret")
	}
	var res *outcome
	err := h.locked(ctx, profile, true, func(ctx context.Context, p *config.Profile, st cache.Store) error {
		r := Request{Password: secret}
		if secretKind(p) == secretAssertion {
			r = Request{Assertion: secret}
		}
		s, err := h.clientFor(p, r)
		if err != nil {
			return err
		}
		e, err := productOf(p).grant(ctx, s)
		if err != nil {
			return err
		}
		if err := cacheError(st.Set(secretKey(p), []byte(secret))); err != nil {
			return err
		}
		res = &outcome{p, e, SourceGrant}
		if p.Static() {
			return nil
		}
		return h.save(st, p.CacheKey(), e)
	})
	if err != nil {
		return nil, err
	}
	return res.result(), nil
}

// AuthCode asks a VB365 server for a one-time authorization code.
func (h *Helper) AuthCode(ctx context.Context, profile string) (string, error) {
	p, err := h.Config.Profile(profile)
	if err != nil {
		return "", err
	}
	ac, ok := productOf(p).(authCoder)
	if !ok {
		return "", exitcode.UsageError("profile %q: product %s has no authorization codes (vb365 only)", p.Name, p.Product)
	}
	res, err := h.get(ctx, Request{Profile: p.Name})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Duration)
	defer cancel()
	s, err := h.clientFor(p, Request{})
	if err != nil {
		return "", err
	}
	return ac.authCode(ctx, s, res.entry)
}

// client is one profile's HTTP client for one request: the profile's
// connection settings and the caller's secrets.
type client struct {
	h    *Helper
	p    *config.Profile
	http *http.Client
	req  Request
	// apiVersion is the x-api-version this client sends: the profile's,
	// or the revision the server named instead (doVersioned).
	apiVersion string
	sent       []string // secrets used in this client's calls: redacted from server text
}

// warnTransport warns once per Helper and profile (so once per command,
// on every command) when the profile's connection is not verified or not
// encrypted.
func (h *Helper) warnTransport(p *config.Profile) {
	insecure, plain := p.InsecureSkipVerify, p.PlainHTTP()
	if !insecure && !plain {
		return
	}
	h.clientsMu.Lock()
	done := h.warned[p.Name]
	if h.warned == nil {
		h.warned = map[string]bool{}
	}
	h.warned[p.Name] = true
	h.clientsMu.Unlock()
	switch {
	case done:
	case insecure:
		h.warnf("profile %q: TLS certificate verification is disabled (insecure_skip_verify)", p.Name)
	default:
		h.warnf("profile %q: sending credentials over plain http", p.Name)
	}
}

// clientFor returns p's client for request r; the HTTP client (its
// connections and TLS settings) is made once per Helper and profile.
func (h *Helper) clientFor(p *config.Profile, r Request) (*client, error) {
	h.clientsMu.Lock()
	defer h.clientsMu.Unlock()
	c := h.clients[p.Name]
	if c == nil {
		var err error
		if c, err = newHTTPClient(p); err != nil {
			return nil, err
		}
		if h.clients == nil {
			h.clients = map[string]*http.Client{}
		}
		h.clients[p.Name] = c
	}
	return &client{h: h, p: p, http: c, req: r}, nil
}
