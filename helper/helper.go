// Package helper is the token engine: configuration, profiles, secret
// sources and the cache → refresh → grant flow. It knows no wire format;
// cmd/ and the integrations turn its Result into one.
package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/cache/keychain"
	"github.com/veeam-tools/veeam-credential-helper/internal/extcmd"
)

// Version is set at build time with -ldflags "-X .../helper.Version=…".
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

// Sources of an answer.
const (
	SourceCache   = "cache"
	SourceRefresh = "refresh"
	SourceGrant   = "grant"
)

// Helper runs the flow for the profiles of one configuration.
type Helper struct {
	Config *Config
	// Stderr gets warnings and, with Debug, debug lines. Never secrets.
	Stderr io.Writer
	Debug  bool
	// Prompt asks the user on a terminal; nil means no terminal: a missing
	// secret is then exit 5, never a hang.
	Prompt func(label string) (string, error)
	// Now is the clock (tests move it).
	Now func() time.Time

	// Store and Locker default to the configured keyring and lock files.
	Store  cache.Store
	Locker cache.Locker

	storeOnce sync.Once
	storeErr  error

	clientsMu sync.Mutex
	clients   map[string]*http.Client
	warned    map[string]bool // profiles warned about an unverified or plain-http connection
}

// New returns a Helper for cfg with stderr for warnings.
func New(cfg *Config) *Helper {
	return &Helper{Config: cfg, Stderr: os.Stderr, Now: time.Now}
}

// Request asks for a credential.
type Request struct {
	Profile      string
	MinValid     time.Duration
	ForceRefresh bool
	// Secrets given by the caller (JSON request on stdin): tried first.
	Password, MFACode, Assertion string
}

// Result is a usable access token and where it came from.
type Result struct {
	Profile *Profile
	Entry   cache.Entry
	Source  string
}

func (h *Helper) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Helper) warnf(format string, args ...any) {
	if h.Stderr != nil {
		fmt.Fprintf(h.Stderr, "veeam-credential-helper: warning: %s\n", oneLine(fmt.Sprintf(format, args...), 400))
	}
}

func (h *Helper) debugf(format string, args ...any) {
	if h.Debug && h.Stderr != nil {
		fmt.Fprintf(h.Stderr, "veeam-credential-helper: debug: %s\n", oneLine(fmt.Sprintf(format, args...), 400))
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
		if h.Store == nil {
			st, err := keychain.Open(cache.Config{
				Backend:           c.Backend,
				Dir:               dir,
				PassphraseEnv:     c.PassphraseEnv,
				PassphraseCommand: c.PassphraseCommand,
				Interactive:       h.Prompt != nil,
				CommandTimeout:    h.longestTimeout(),
				CommandEnvDrop:    h.secretVariables(),
			})
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

// longestTimeout is the longest profile timeout: the bound of the cache's
// passphrase_command, which serves every profile.
func (h *Helper) longestTimeout() time.Duration {
	var d time.Duration
	for _, p := range h.Config.Profiles {
		d = max(d, p.Timeout.Duration)
	}
	if d == 0 {
		return DefaultTimeout
	}
	return d
}

func cacheError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, extcmd.ErrTimeout) {
		// passphrase_command timed out: a timeout, as a server's would be.
		return wrapf(ExitUnreachable, err, "token cache unavailable: %v", err)
	}
	if cache.IsUnavailable(err) {
		return wrapf(ExitCache, err, "token cache unavailable: %v", err)
	}
	return wrapf(ExitCache, err, "token cache: %v", err)
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
		// Cached by an older version before tokens were checked: no
		// answer could carry it, so renew it.
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
func (h *Helper) fresh(p *Profile, e cache.Entry, minValid time.Duration) bool {
	return p.Fresh(e, minValid, h.now())
}

// Get returns an access token for the request's profile: from the cache,
// else by the refresh grant, else by the profile's primary grant. The lock
// is held from the re-read to the write so that one process talks to the
// server and the others reuse its answer.
func (h *Helper) Get(ctx context.Context, r Request) (*Result, error) {
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
			return &Result{Profile: p, Entry: e, Source: SourceCache}, nil
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
			return nil, wrapf(ExitUnreachable, err, "profile %q: timed out after %s waiting for another process's login", p.Name, p.Timeout.Duration)
		}
		return nil, cacheError(err)
	}
	if !locked {
		h.debugf("profile %q: another process renewed the token", p.Name)
		return &Result{Profile: p, Entry: renewed, Source: SourceCache}, nil
	}
	defer unlock()

	e, found, err := h.load(st, key)
	if err != nil {
		return nil, err
	}
	if found && !r.ForceRefresh && h.fresh(p, e, r.MinValid) {
		h.debugf("profile %q: another process renewed the token", p.Name)
		return &Result{Profile: p, Entry: e, Source: SourceCache}, nil
	}
	s, err := h.session(p, r)
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
		ne, err := flow(p).refresh(ctx, s, e)
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
			return &Result{Profile: p, Entry: ne, Source: SourceRefresh}, nil
		case ExitCode(err) == ExitRejected:
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
				return &Result{Profile: p, Entry: e, Source: SourceCache}, nil
			}
			return nil, err
		}
	}
	h.debugf("profile %q: %s grant", p.Name, p.Grant)
	ne, err := flow(p).grant(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := h.checkFresh(p, ne, r.MinValid); err != nil {
		return nil, err
	}
	h.keep(st, key, p, ne)
	return &Result{Profile: p, Entry: ne, Source: SourceGrant}, nil
}

// keep stores a token the server just issued. When it cannot be stored
// (disk full, quota) the token is still answered, with one warning naming
// the cause, and the old entry is removed: it may hold a refresh token the
// server has rotated away.
func (h *Helper) keep(st cache.Store, key string, p *Profile, e cache.Entry) {
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
func (h *Helper) checkFresh(p *Profile, e cache.Entry, minValid time.Duration) error {
	now := h.now()
	if !e.ExpiresAt.After(now) {
		return errorf(ExitUnreachable, "profile %q: the server answered a token that has already expired (valid until %s, this machine's clock says %s): check both clocks",
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
func (h *Helper) static(ctx context.Context, p *Profile, r Request) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Duration)
	defer cancel()
	s, err := h.session(p, r)
	if err != nil {
		return nil, err
	}
	e, err := flow(p).grant(ctx, s)
	if err != nil {
		return nil, err
	}
	if !usableToken(e.AccessToken) {
		return nil, errorf(ExitUsage, "profile %q: the API key holds control characters, spaces or non-ASCII: it cannot be sent as a bearer token", p.Name)
	}
	return &Result{Profile: p, Entry: e, Source: SourceGrant}, nil
}

// Invalidate drops the profile's cached access token but keeps its refresh
// token, so the next Get runs the refresh grant (git's `erase`).
func (h *Helper) Invalidate(ctx context.Context, profile string) error {
	return h.InvalidateToken(ctx, profile, "")
}

// InvalidateToken is Invalidate for one rejected token: when the cache holds
// another (already renewed by a concurrent caller) it is kept.
func (h *Helper) InvalidateToken(ctx context.Context, profile, token string) error {
	return h.locked(ctx, profile, true, func(ctx context.Context, p *Profile, st cache.Store) error {
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
func (h *Helper) locked(ctx context.Context, profile string, unlock bool, fn func(context.Context, *Profile, cache.Store) error) error {
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
	return h.locked(ctx, profile, false, func(ctx context.Context, p *Profile, st cache.Store) error {
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
			s, err := h.session(p, Request{})
			if err == nil {
				err = flow(p).logout(ctx, s, e)
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

// Status describes a profile's cache state without any secret.
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
}

// Statuses reports every profile, sorted by name.
func (h *Helper) Statuses() ([]Status, error) {
	st, _, err := h.OpenCache()
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, name := range h.Config.ProfileNames() {
		p := h.Config.Profiles[name]
		s := Status{Profile: name, Product: p.Product, URL: p.URL, Username: p.Identity(), Grant: p.Grant, Backend: st.Backend(), Static: p.Static()}
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
		if _, err := st.Get(secretKey(p)); err == nil {
			s.SecretStored = true
		}
		out = append(out, s)
	}
	return out, nil
}

// Login stores the profile's secret (password or assertion) in the
// keyring, then runs the primary grant with it to prove it works.
func (h *Helper) Login(ctx context.Context, profile, secret string) (*Result, error) {
	if secret == "" {
		return nil, errorf(ExitInteraction, "empty secret")
	}
	var res *Result
	err := h.locked(ctx, profile, true, func(ctx context.Context, p *Profile, st cache.Store) error {
		r := Request{Password: secret}
		if secretKind(p) == secretAssertion {
			r = Request{Assertion: secret}
		}
		s, err := h.session(p, r)
		if err != nil {
			return err
		}
		e, err := flow(p).grant(ctx, s)
		if err != nil {
			return err
		}
		if err := cacheError(st.Set(secretKey(p), []byte(secret))); err != nil {
			return err
		}
		res = &Result{Profile: p, Entry: e, Source: SourceGrant}
		if p.Static() {
			return nil
		}
		return h.save(st, p.CacheKey(), e)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// AuthCode asks a VB365 server for a one-time authorization code.
func (h *Helper) AuthCode(ctx context.Context, profile string) (string, error) {
	p, err := h.Config.Profile(profile)
	if err != nil {
		return "", err
	}
	ac, ok := flow(p).(authCoder)
	if !ok {
		return "", UsageError("profile %q: product %s has no authorization codes (vb365 only)", p.Name, p.Product)
	}
	res, err := h.Get(ctx, Request{Profile: p.Name})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Duration)
	defer cancel()
	s, err := h.session(p, Request{})
	if err != nil {
		return "", err
	}
	return ac.authCode(ctx, s, res.Entry)
}

// session is one profile's connection to its server for one request.
type session struct {
	h      *Helper
	p      *Profile
	client *http.Client
	req    Request
	// apiVersion is the x-api-version this session sends: the profile's,
	// or the revision the server named instead (doVersioned).
	apiVersion string
	sent       []string // secrets used in this session's calls: redacted from server text
}

// warnTransport warns once per Helper and profile (so once per command,
// on every command) when the profile's connection is not verified or not
// encrypted.
func (h *Helper) warnTransport(p *Profile) {
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

func (h *Helper) session(p *Profile, r Request) (*session, error) {
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
	return &session{h: h, p: p, client: c, req: r}, nil
}
