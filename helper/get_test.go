package helper_test

// In-process tests of the engine's flow run helper.Helper against the
// emulator in a throwaway home: no binary is built or started. They read
// the answer through token, expiry and exitOf so that a change of Result or
// of the error helpers is a one-line change here. This file has the home
// and Get's branches: cache hit, refresh, rejected refresh → primary
// grant, transient failures, the cache's own failures, the lock.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// TestMain gives every home's file backend its passphrase once, so that
// tests keep their secrets in files and may run in parallel (t.Setenv
// forbids it).
func TestMain(m *testing.M) {
	os.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", testenv.Passphrase)
	os.Exit(m.Run())
}

func token(r *helper.Result) string     { return r.AccessToken }
func expiry(r *helper.Result) time.Time { return r.ExpiresAt }
func tokenType(r *helper.Result) string { return r.TokenType }
func exitOf(err error) int              { return exitcode.Of(err) }

// home is one configuration, its emulators and a Helper on it, as one
// command of the binary would build it; stderr collects what every Helper
// of the home writes.
type home struct {
	*testenv.Env
	t      *testing.T
	h      *helper.Helper
	stderr testenv.Buffer
}

func newHome(t *testing.T) *home {
	t.Helper()
	return &home{Env: testenv.New(t), t: t}
}

// server starts the home's emulator of product (once per product).
func (x *home) server(product string, opts emulator.Options) *emulator.Emulator {
	x.t.Helper()
	opts.Product = product
	return x.Emulator(opts)
}

// file writes content to a 0600 file of the home and returns its path.
func (x *home) file(name, content string) string {
	x.t.Helper()
	p := filepath.Join(x.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// user is a profile of the product's emulator for username, whose password
// is read from a file of the home.
func (x *home) user(name, product, username, password string) testenv.Profile {
	x.t.Helper()
	p := x.ProfileOf(name, product)
	p.Username = username
	p.PasswordFile = x.file(name+".password", password+"\n")
	return p
}

// use writes a configuration of the profiles and starts a new command on it.
func (x *home) use(ps ...testenv.Profile) *helper.Helper {
	x.t.Helper()
	x.Profiles(ps...)
	return x.command()
}

// write writes c and starts a new command on it.
func (x *home) write(c testenv.Config) *helper.Helper {
	x.t.Helper()
	x.Write(c)
	return x.command()
}

// command is a new Helper on the home's configuration file: what a new
// process of the binary would use (its own HTTP clients and warnings).
func (x *home) command() *helper.Helper {
	x.t.Helper()
	cfg, err := config.Load(x.ConfigPath)
	if err != nil {
		x.t.Fatalf("config: %v\n%s", err, x.Config.TOML())
	}
	x.h = helper.New(cfg)
	x.h.Stderr = &x.stderr
	return x.h
}

// get runs the flow for a profile with no other request.
func (x *home) get(profile string) (*helper.Result, error) {
	return x.do(helper.Request{Profile: profile})
}

func (x *home) do(r helper.Request) (*helper.Result, error) {
	x.t.Helper()
	return x.h.Get(x.t.Context(), r)
}

// mustGet is do that fails the test on an error and checks the source.
func (x *home) mustGet(r helper.Request, source string) *helper.Result {
	x.t.Helper()
	res, err := x.do(r)
	if err != nil {
		x.t.Fatalf("Get %+v: %v", r, err)
	}
	if res.Source != source {
		x.t.Fatalf("Get %+v: source %s, want %s", r, res.Source, source)
	}
	return res
}

// fail runs a request that must fail with exit code want and returns the
// error's one-line message.
func (x *home) fail(r helper.Request, want int) string {
	x.t.Helper()
	res, err := x.do(r)
	if err == nil {
		x.t.Fatalf("Get %+v: answered (source %s), want exit %d", r, res.Source, want)
	}
	if got := exitOf(err); got != want {
		x.t.Fatalf("Get %+v: exit %d, want %d: %v", r, got, want, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		x.t.Errorf("error is not one line: %q", msg)
	}
	return msg
}

// later moves the current Helper's clock forward by d.
func (x *home) later(d time.Duration) {
	x.h.Now = func() time.Time { return time.Now().Add(d) }
}

// status is the home's status line of a profile.
func (x *home) status(profile string) helper.Status {
	x.t.Helper()
	all, err := x.h.Statuses()
	if err != nil {
		x.t.Fatal(err)
	}
	for _, s := range all {
		if s.Profile == profile {
			return s
		}
	}
	x.t.Fatalf("no status for %q", profile)
	return helper.Status{}
}

func (x *home) logout(profile string) {
	x.t.Helper()
	if err := x.h.Logout(x.t.Context(), profile, false); err != nil {
		x.t.Fatalf("logout %s: %v", profile, err)
	}
}

// noLeak fails the test when s holds one of the secrets or a prefix of a
// token that em issues.
func noLeak(t *testing.T, what, s string, em *emulator.Emulator, secrets ...string) {
	t.Helper()
	testenv.NoSecrets(t, what, s, em, append(secrets, emulator.StackTraceMarker)...)
}

const (
	m365User     = `corp\svc-backup`
	m365Password = "pw-M365-inproc-0001"
)

// m365Home is a home with one vb365 profile "m365" whose password is in a
// file; set (may be nil) changes the profile before it is written.
func m365Home(t *testing.T, opts emulator.Options, set func(*testenv.Profile)) (*home, *emulator.Emulator) {
	t.Helper()
	x := newHome(t)
	em := x.server(emulator.ProductVB365, opts)
	em.AddUser(m365User, m365Password)
	p := x.user("m365", emulator.ProductVB365, m365User, m365Password)
	if set != nil {
		set(&p)
	}
	x.use(p)
	return x, em
}

var m365 = helper.Request{Profile: "m365"}

// with is m365 changed by f.
func with(f func(*helper.Request)) helper.Request {
	r := m365
	f(&r)
	return r
}

var (
	force = with(func(r *helper.Request) { r.ForceRefresh = true })
	// stale asks for 59 minutes: less than the emulator's one-hour tokens
	// live, more than a cached one has left once the clock moved on
	// (x.later).
	stale = with(func(r *helper.Request) { r.MinValid = 59 * time.Minute })
)

func TestGetGrantThenCacheHit(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	first := x.mustGet(m365, helper.SourceGrant)
	if !em.Valid(token(first)) || tokenType(first) != "Bearer" {
		t.Fatalf("grant: valid %v, type %q", em.Valid(token(first)), tokenType(first))
	}
	// The emulator answers expires_in 3600: trusted as it is.
	if left := time.Until(expiry(first)); left < 50*time.Minute || left > time.Hour {
		t.Errorf("expiry %s from now, want the server's hour", left)
	}
	if f := em.LastForm(); f.Get("disable_antiforgery_token") != "true" || f.Get("username") != m365User {
		t.Errorf("grant form: disable_antiforgery_token %q, username %q", f.Get("disable_antiforgery_token"), f.Get("username"))
	}
	again := x.mustGet(m365, helper.SourceCache)
	if token(again) != token(first) || !expiry(again).Equal(expiry(first)) {
		t.Errorf("cache hit: same token %v, expiry %v vs %v", token(again) == token(first), expiry(again), expiry(first))
	}
	// Another command (another process) reads the same cache.
	x.command()
	if next := x.mustGet(m365, helper.SourceCache); token(next) != token(first) {
		t.Error("a new Helper on the same cache got another token")
	}
	if n := em.Counts(); n.TokenCalls != 1 || n.Grants["password"] != 1 {
		t.Errorf("server saw %d token calls, %d password grants; want 1", n.TokenCalls, n.Grants["password"])
	}
	if s := x.stderr.String(); s != "" {
		t.Errorf("a quiet flow wrote stderr %q", s)
	}
}

func TestGetMinValidRefreshes(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	seen := map[string]bool{token(x.mustGet(m365, helper.SourceGrant)): true}
	for i := 0; i < 3; i++ {
		x.later(time.Duration(i+1) * 2 * time.Minute)
		r := x.mustGet(stale, helper.SourceRefresh)
		if seen[token(r)] || !em.Valid(token(r)) {
			t.Fatalf("refresh %d: repeated %v, valid %v", i, seen[token(r)], em.Valid(token(r)))
		}
		seen[token(r)] = true
	}
	// Within the token's life a request without a minimum is a hit.
	x.mustGet(m365, helper.SourceCache)
	if n := em.Counts(); n.RefreshReuse != 0 || n.Grants["refresh_token"] != 3 || n.Grants["password"] != 1 {
		t.Errorf("server saw %d refresh grants, %d password grants, %d refresh token reuses", n.Grants["refresh_token"], n.Grants["password"], n.RefreshReuse)
	}
}

// A minimum longer than the server's tokens live (up to the largest
// Duration) keeps a token while it is as fresh as the server allows (half
// its lifetime left: no refresh on every call), and renews it after: never
// an overflow into "any token will do".
func TestGetHugeMinValidRenews(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	x.mustGet(m365, helper.SourceGrant)
	for _, d := range []time.Duration{2 * time.Hour, 100 * 365 * 24 * time.Hour, math.MaxInt64} {
		x.mustGet(with(func(r *helper.Request) { r.MinValid = d }), helper.SourceCache)
	}
	x.later(31 * time.Minute)
	for _, d := range []time.Duration{2 * time.Hour, math.MaxInt64} {
		x.mustGet(with(func(r *helper.Request) { r.MinValid = d }), helper.SourceRefresh)
		x.later(62 * time.Minute)
	}
	if n := em.Counts(); n.Grants["refresh_token"] != 2 {
		t.Errorf("%d refresh grants, want 2", n.Grants["refresh_token"])
	}
}

// refresh_before is the margin: a token that expires within it is renewed.
func TestGetRefreshBeforeMargin(t *testing.T) {
	x, _ := m365Home(t, emulator.Options{}, func(p *testenv.Profile) { p.RefreshBefore = "10m" })
	x.mustGet(m365, helper.SourceGrant)
	x.later(45 * time.Minute) // 15 minutes left: outside the margin
	x.mustGet(m365, helper.SourceCache)
	x.later(55 * time.Minute) // 5 minutes left: inside it
	r := x.mustGet(m365, helper.SourceRefresh)
	x.later(55 * time.Minute) // the new token's hour counts from the refresh
	if next := x.mustGet(m365, helper.SourceCache); token(next) != token(r) {
		t.Error("the refreshed token was not kept")
	}
}

func TestGetForceRefresh(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	a := x.mustGet(m365, helper.SourceGrant)
	b := x.mustGet(force, helper.SourceRefresh)
	c := x.mustGet(force, helper.SourceRefresh)
	if token(a) == token(b) || token(b) == token(c) || !em.Valid(token(c)) {
		t.Error("a forced refresh answered an old token")
	}
	if x.mustGet(m365, helper.SourceCache); token(c) == "" || em.Counts().RefreshReuse != 0 {
		t.Errorf("refresh token reused: %+v", em.Counts())
	}
}

// With antiforgery on, the session's cookies are kept in the cache entry and
// sent with every refresh, by this command and the next.
func TestGetAntiforgerySessionRefreshes(t *testing.T) {
	no := false
	x, em := m365Home(t, emulator.Options{}, func(p *testenv.Profile) { p.DisableAntiforgeryToken = &no })
	x.mustGet(m365, helper.SourceGrant)
	if f := em.LastForm(); f.Has("disable_antiforgery_token") && f.Get("disable_antiforgery_token") != "false" {
		t.Fatalf("antiforgery was disabled: %q", f.Get("disable_antiforgery_token"))
	}
	x.mustGet(force, helper.SourceRefresh)
	x.command()
	x.mustGet(force, helper.SourceRefresh)
	if n := em.Counts(); n.AntiforgeryRejects != 0 || n.Grants["refresh_token"] != 2 || n.Grants["password"] != 1 {
		t.Errorf("server saw %d antiforgery rejects, %d refresh grants, %d password grants", n.AntiforgeryRejects, n.Grants["refresh_token"], n.Grants["password"])
	}
}

func TestGetRejectedRefreshFallsBackToGrant(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	first := x.mustGet(m365, helper.SourceGrant)
	em.RevokeRefreshTokens()
	r := x.mustGet(force, helper.SourceGrant)
	if token(r) == token(first) || !em.Valid(token(r)) {
		t.Error("the fallback grant answered no new valid token")
	}
	if n := em.Counts(); n.Grants["password"] != 2 || n.FailedGrants["refresh_token"] != 1 {
		t.Errorf("server saw %d password grants, %d failed refreshes", n.Grants["password"], n.FailedGrants["refresh_token"])
	}
	// The new session refreshes normally; the dead token is never sent again.
	x.mustGet(force, helper.SourceRefresh)
	if n := em.Counts(); n.RefreshReuse != 0 || n.FailedGrants["refresh_token"] != 1 {
		t.Errorf("after the fallback: %d reuses, %d failed refreshes", n.RefreshReuse, n.FailedGrants["refresh_token"])
	}
}

// A rejected refresh token is dropped even when the grant that follows
// cannot run: the next call does not send it again.
func TestGetRejectedRefreshDroppedWhenGrantImpossible(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	x.mustGet(m365, helper.SourceGrant)
	em.RevokeRefreshTokens()
	os.Remove(x.Config.Profile("m365").PasswordFile)
	msg := x.fail(force, exitcode.Usage) // password_file is configured but unreadable
	if !strings.Contains(msg, "password_file") {
		t.Errorf("message %q does not name password_file", msg)
	}
	if s := x.status("m365"); s.RefreshTokenPresent || s.Valid {
		t.Errorf("status after a rejected refresh: %+v", s)
	}
	x.fail(force, exitcode.Usage)
	if n := em.Counts(); n.FailedGrants["refresh_token"] != 1 {
		t.Errorf("the rejected refresh token was sent %d times", n.FailedGrants["refresh_token"])
	}
}

// A transient failure of the refresh keeps the refresh token and answers
// the still-valid cached token with one warning; the next call refreshes
// with the kept token.
func TestGetTransientRefreshFailureAnswersCachedToken(t *testing.T) {
	faults := map[string]func(*emulator.Emulator){
		"html":  func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageHTML) },
		"500":   func(em *emulator.Emulator) { em.FailNext(1, 500, 0) },
		"drop":  func(em *emulator.Emulator) { em.DropNext(1) },
		"empty": func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageEmpty) },
	}
	for name, arm := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			x, em := m365Home(t, emulator.Options{}, func(p *testenv.Profile) { p.Timeout = "5s" })
			first := x.mustGet(m365, helper.SourceGrant)
			arm(em)
			x.later(2 * time.Minute)
			r := x.mustGet(stale, helper.SourceCache)
			if token(r) != token(first) {
				t.Error("the answer is not the cached token")
			}
			warn := x.stderr.Take()
			if strings.Count(warn, "\n") != 1 || !strings.Contains(warn, "warning") || !strings.Contains(warn, "valid until") {
				t.Errorf("stderr %q, want one warning naming the cached token's expiry", warn)
			}
			noLeak(t, "warning", warn, em, m365Password)
			if s := x.status("m365"); !s.RefreshTokenPresent || !s.Valid {
				t.Errorf("status after the failure: %+v", s)
			}
			x.mustGet(stale, helper.SourceRefresh)
			if n := em.Counts(); n.Grants["password"] != 1 || n.Grants["refresh_token"] != 1 || n.RefreshReuse != 0 {
				t.Errorf("server saw %d password, %d refresh grants, %d reuses", n.Grants["password"], n.Grants["refresh_token"], n.RefreshReuse)
			}
		})
	}
}

// When the cached token has expired (or a refresh was forced), a transient
// failure is the answer (exit 4) and the refresh token is still kept.
func TestGetTransientRefreshFailureWithoutUsableToken(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	x.mustGet(m365, helper.SourceGrant)
	em.FailNext(1, 500, 0)
	x.fail(force, exitcode.Unreachable)
	x.later(2 * time.Hour)
	em.FailNext(1, 500, 0)
	msg := x.fail(m365, exitcode.Unreachable)
	if !strings.Contains(msg, "HTTP 500") {
		t.Errorf("message %q does not give the status", msg)
	}
	if s := x.status("m365"); !s.RefreshTokenPresent || s.Valid {
		t.Errorf("status after the failures: %+v", s)
	}
	x.mustGet(m365, helper.SourceRefresh)
	if n := em.Counts(); n.Grants["password"] != 1 || n.Grants["refresh_token"] != 1 {
		t.Errorf("server saw %d password, %d refresh grants", n.Grants["password"], n.Grants["refresh_token"])
	}
	if s := x.stderr.String(); s != "" {
		t.Errorf("a failure without a usable token warned %q", s)
	}
}

// itemPath is where the file backend keeps a profile's entry.
func (x *home) itemPath(profile string) string {
	x.t.Helper()
	p, err := x.h.Config.Profile(profile)
	if err != nil {
		x.t.Fatal(err)
	}
	return filepath.Join(x.CacheDir, "tokens", p.CacheKey())
}

// A corrupt item is a miss for its profile only: the grant replaces it and
// the other identity's item is neither read as corrupt nor touched.
func TestGetCorruptEntryIsAMiss(t *testing.T) {
	x := newHome(t)
	em := x.server(emulator.ProductVB365, emulator.Options{})
	em.AddUser(m365User, m365Password)
	em.AddUser(`corp\second`, "pw-second-0002")
	x.use(x.user("m365", "vb365", m365User, m365Password), x.user("second", "vb365", `corp\second`, "pw-second-0002"))
	first := x.mustGet(m365, helper.SourceGrant)
	other := x.mustGet(helper.Request{Profile: "second"}, helper.SourceGrant)
	item, otherItem := x.itemPath("m365"), x.itemPath("second")
	good, err := os.ReadFile(item)
	if err != nil {
		t.Fatal(err)
	}
	otherBytes, _ := os.ReadFile(otherItem)
	dot := strings.IndexByte(string(good), '.')
	corruptions := map[string][]byte{
		"garbage":          []byte("\x00\xffnot a JWE at all\n"),
		"truncated":        good[:len(good)/2],
		"empty":            {},
		"five dots":        []byte("a.b.c.d.e"),
		"bad header":       append([]byte("eyJhbGciOiJub25lIn0"), good[dot:]...),
		"trailing garbage": append(append([]byte{}, good...), "xx"...),
	}
	for name, bad := range corruptions {
		if err := os.WriteFile(item, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		r := x.mustGet(m365, helper.SourceGrant)
		if token(r) == token(first) || !em.Valid(token(r)) {
			t.Errorf("%s: the grant's token is old or invalid", name)
		}
		if hit := x.mustGet(m365, helper.SourceCache); token(hit) != token(r) {
			t.Errorf("%s: the replaced item does not answer", name)
		}
		if o := x.mustGet(helper.Request{Profile: "second"}, helper.SourceCache); token(o) != token(other) {
			t.Errorf("%s: the second profile lost its token", name)
		}
	}
	if now, _ := os.ReadFile(otherItem); string(now) != string(otherBytes) {
		t.Error("the second profile's item changed")
	}
	// An item that decrypts but holds no entry is a miss too.
	st, _, err := x.h.OpenCache()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := x.h.Config.Profile("m365")
	if err := st.Set(p.CacheKey(), []byte(`{"not":"an entry"`)); err != nil {
		t.Fatal(err)
	}
	x.mustGet(m365, helper.SourceGrant)
	if n := em.Counts().Grants["password"]; n != len(corruptions)+3 {
		t.Errorf("%d password grants, want %d", n, len(corruptions)+3)
	}
}

// The cache holds no token, refresh token or password in plain text.
func TestGetCacheFilesEncrypted(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	r := x.mustGet(m365, helper.SourceGrant)
	// The entry and the passphrase check (.passphrase-check).
	items, _ := filepath.Glob(filepath.Join(x.CacheDir, "tokens", "*"))
	if len(items) != 2 || filepath.Base(items[0]) != ".passphrase-check" {
		t.Fatalf("cache items %v", items)
	}
	for _, f := range items {
		b, _ := os.ReadFile(f)
		noLeak(t, f, string(b), em, token(r), m365Password, testenv.Passphrase)
	}
}

// Without the cache's passphrase nothing is sent; with a wrong one the
// cache is neither answered nor overwritten.
func TestGetCacheUnavailable(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	right := x.Config
	without := right
	without.Cache = testenv.Cache{Backend: "file", Dir: x.CacheDir, PassphraseEnv: "VCH_TEST_UNSET_PASSPHRASE"}
	x.write(without)
	msg := x.fail(m365, exitcode.Cache)
	if !strings.Contains(msg, "VCH_TEST_UNSET_PASSPHRASE") || !strings.Contains(msg, "passphrase_command") {
		t.Errorf("no passphrase: %q does not name the ways to give one", msg)
	}
	if n := em.Counts().TokenCalls; n != 0 {
		t.Errorf("the server saw %d token calls before the cache failed", n)
	}

	x.write(right)
	first := x.mustGet(m365, helper.SourceGrant)
	const wrong = "wrong-PASSPHRASE-Secret-6"
	wrongly := without
	wrongly.Cache.PassphraseCommand = []string{"printf", "%s", wrong}
	x.write(wrongly)
	msg = x.fail(m365, exitcode.Cache)
	if !strings.Contains(msg, "passphrase") {
		t.Errorf("message %q does not name the passphrase", msg)
	}
	noLeak(t, "error", msg+x.stderr.String(), em, wrong, testenv.Passphrase, m365Password)
	x.write(right)
	if r := x.mustGet(m365, helper.SourceCache); token(r) != token(first) {
		t.Error("the right passphrase no longer opens the cached token")
	}
	if n := em.Counts().TokenCalls; n != 1 {
		t.Errorf("server saw %d token calls", n)
	}
}

// Another holder of the profile's lock is waited for within the profile's
// timeout; a fresh token it stores meanwhile is the answer.
func TestGetWaitsForAnotherLogin(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, func(p *testenv.Profile) { p.Timeout = "1s" })
	p, _ := x.h.Config.Profile("m365")
	unlock, err := cache.NewFileLocker(x.CacheDir).Lock(t.Context(), p.CacheKey())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	msg := x.fail(m365, exitcode.Unreachable)
	if !strings.Contains(msg, "waiting for another process") {
		t.Errorf("message %q", msg)
	}

	x.Config.Profile("m365").Timeout = "30s"
	x.write(x.Config)
	done := make(chan *helper.Result, 1)
	go func() {
		r, err := x.get("m365")
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	st, _, err := x.h.OpenCache()
	if err != nil {
		t.Fatal(err)
	}
	b, err := cache.EncodeEntry(cache.Entry{AccessToken: "stored-by-the-lock-holder", TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set(p.CacheKey(), b); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r == nil || token(r) != "stored-by-the-lock-holder" || r.Source != helper.SourceCache {
		t.Fatalf("the waiter answered %+v", r)
	}
	if n := em.Counts().TokenCalls; n != 0 {
		t.Errorf("the server saw %d token calls while the lock was held", n)
	}
}

// Invalidate (git's erase) drops the access token but keeps the refresh
// token; InvalidateToken of a token already replaced keeps the new one.
func TestInvalidate(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	old := x.mustGet(m365, helper.SourceGrant)
	renewed := x.mustGet(force, helper.SourceRefresh)
	if err := x.h.InvalidateToken(t.Context(), "m365", token(old)); err != nil {
		t.Fatal(err)
	}
	if r := x.mustGet(m365, helper.SourceCache); token(r) != token(renewed) {
		t.Error("erasing a stale token dropped the renewed one")
	}
	if err := x.h.InvalidateToken(t.Context(), "m365", token(renewed)); err != nil {
		t.Fatal(err)
	}
	if s := x.status("m365"); s.Valid || !s.RefreshTokenPresent {
		t.Errorf("status after erase: %+v", s)
	}
	x.mustGet(m365, helper.SourceRefresh)
	if err := x.h.Invalidate(t.Context(), "m365"); err != nil {
		t.Fatal(err)
	}
	x.mustGet(m365, helper.SourceRefresh)
	if n := em.Counts(); n.Grants["password"] != 1 || n.RefreshReuse != 0 {
		t.Errorf("server saw %d password grants, %d reuses", n.Grants["password"], n.RefreshReuse)
	}
}

// Goroutines of one process, each with its own Helper as separate
// libraries or commands would have, share the lock file: one of them logs
// in, one refreshes, and every goroutine gets that token.
func TestConcurrentHelpersOneGrantOneRefresh(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	em.SetDelay(200 * time.Millisecond) // the first caller is still inside the grant when the others arrive
	const n = 16
	run := func(later time.Duration) (tokens map[string]int, sources map[string]int) {
		helpers := make([]*helper.Helper, n)
		for i := range helpers {
			helpers[i] = x.command()
			if later > 0 {
				helpers[i].Now = func() time.Time { return time.Now().Add(later) }
			}
		}
		res := make([]*helper.Result, n)
		testenv.AtOnce(n, func(i int) {
			r, err := helpers[i].Get(t.Context(), m365)
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
				return
			}
			res[i] = r
		})
		tokens, sources = map[string]int{}, map[string]int{}
		for _, r := range res {
			if r != nil {
				tokens[token(r)]++
				sources[r.Source]++
			}
		}
		return tokens, sources
	}
	tokens, sources := run(0)
	if len(tokens) != 1 || sources[helper.SourceGrant] != 1 || sources[helper.SourceCache] != n-1 {
		t.Fatalf("cold cache: %d distinct tokens, sources %v", len(tokens), sources)
	}
	// 59m30s later the token is inside refresh_before for every goroutine.
	tokens, sources = run(59*time.Minute + 30*time.Second)
	if len(tokens) != 1 || sources[helper.SourceRefresh] != 1 || sources[helper.SourceCache] != n-1 {
		t.Fatalf("expiring token: %d distinct tokens, sources %v", len(tokens), sources)
	}
	if c := em.Counts(); c.Grants["password"] != 1 || c.Grants["refresh_token"] != 1 || c.TokenCalls != 2 || c.RefreshReuse != 0 {
		t.Errorf("server saw %d token calls (%d password, %d refresh, %d reuses), want 2", c.TokenCalls, c.Grants["password"], c.Grants["refresh_token"], c.RefreshReuse)
	}
}

// Two identities do not wait for each other's lock: each gets one grant.
func TestConcurrentTwoIdentities(t *testing.T) {
	x := newHome(t)
	em := x.server(emulator.ProductVB365, emulator.Options{})
	em.SetDelay(100 * time.Millisecond)
	var ps []testenv.Profile
	for i := range 2 {
		user, pw := fmt.Sprintf("corp\\user%d", i), fmt.Sprintf("pw-user-%d-secret", i)
		em.AddUser(user, pw)
		ps = append(ps, x.user(fmt.Sprintf("p%d", i), "vb365", user, pw))
	}
	x.use(ps...)
	helpers := make([]*helper.Helper, 12)
	for i := range helpers {
		helpers[i] = x.command()
	}
	tokens := sync.Map{}
	testenv.AtOnce(len(helpers), func(i int) {
		profile := fmt.Sprintf("p%d", i%2)
		r, err := helpers[i].Get(t.Context(), helper.Request{Profile: profile})
		if err != nil {
			t.Errorf("%s: %v", profile, err)
			return
		}
		if prev, loaded := tokens.LoadOrStore(profile, token(r)); loaded && prev != token(r) {
			t.Errorf("%s: two tokens for one identity", profile)
		}
	})
	if c := em.Counts(); c.Grants["password"] != 2 || c.TokenCalls != 2 {
		t.Errorf("server saw %d token calls, %d password grants; want 2", c.TokenCalls, c.Grants["password"])
	}
}
