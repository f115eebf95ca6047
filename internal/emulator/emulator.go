// Package emulator is an in-process model of the Veeam token endpoints
// (VB365 REST v6/v7/v8 and Veeam Backup for Microsoft Azure) for tests and
// for the `demo` command. One Emulator serves one product on a loopback
// port. The later products (vbr, vbaws, vbgcp, vone, vspc) are modelled in
// their own files, each documenting its answers there and the public REST
// reference they follow; Products lists them all.
//
// # Model
//
// Identities are registered with AddUser, AddMFAUser, AddJWTClient and
// AddOperator. Every successful grant opens or continues a session; a
// session owns the access tokens issued in it and one current refresh token.
//
//   - Refresh-token rotation: a refresh answers a new access and refresh token
//     in the same session; the refresh token presented becomes used. Presenting
//     a used refresh token again counts Counts.RefreshReuse and is rejected
//     (401). Older access tokens stay valid until they expire (like JWTs).
//   - Logout (vb365 POST /{version}/token/logout, vbazure DELETE /api/oauth2/token)
//     ends the session: all its access tokens and its refresh token die.
//   - Tokens are random opaque strings with a product prefix (TokenPrefixes)
//     so leak tests can grep for them.
//
// # Status codes (choices where the vendor references are silent)
//
// vb365 serves one REST API version (Options.APIVersion, default v8) under
// /{version}/: a server of another version has no such paths, so they
// answer 404 (VB365 7 serves only /v6 and /v7). Errors follow the REST API
// reference's "Operation failure response" schema
// {"message","errorCode","stackTrace"}; the stack
// trace is a long fake .NET trace containing StackTraceMarker, on every error,
// so tests can assert it never reaches a user.
//
//   - wrong username/password, unknown jwt client or operator, wrong assertion:
//     400 errorCode "AccessDenied" (the server's token endpoint is an OWIN-style
//     OAuth server, which answers bad credentials with 400 invalid_grant);
//   - unknown, used, revoked, expired or logged-out refresh token: 401 "AccessDenied";
//   - missing antiforgery cookie on the refresh of an antiforgery session: 400
//     "AntiforgeryValidationFailed";
//   - missing fields, unknown grant_type: 400 "BadRequest"; not a form: 415.
//
// The antiforgery cookie (AntiforgeryCookieName) is set on every answer of a
// session opened without disable_antiforgery_token=true and rotates on each
// refresh; it carries the Secure attribute only when Options.TLS is set, so a
// cookie jar also works against a plain-http emulator.
//
// vbazure: the password step of an MFA user answers 200 with mfa_enabled:true
// (left out with Options.MFAFlagOmitted), an mfa_token and null
// access_token/refresh_token; it counts as a successful
// grant under the grant_type sent (e.g. Grants["Password"]). grant_type may be
// omitted (Password is assumed, counted under ""). short_lived_refresh_token=true
// caps the refresh lifetime at 60 minutes and answers shortLived:true.
//
// vbazure answers errors as application/problem+json
// {type,title,status,detail,traceId,errors}; on 5xx errors.exception holds a
// fake stack trace with StackTraceMarker.
//
//   - wrong username/password, wrong MFA code, unknown/used/expired mfa_token,
//     bad refresh token: 401;
//   - missing fields, unsupported grant, missing or wrong api-version (when
//     Options.RequireAPIVersion is set): 400; not a form: 415.
//
// # Fault knobs
//
// FailNext, GarbageNext, DropNext and HangNext queue faults in the order they
// are armed; each grant call (POST to the token endpoint) takes the first one.
// Logout, AuthCode and protected calls are never faulted. SetDelay delays every
// grant call (faulted or not). A faulted call counts in TokenCalls and Faults,
// not in Grants/FailedGrants, and does not touch any token. A failure is
// answered in the product's error shape; 429 carries Retry-After, except on
// vspc, whose "Throttling" reference puts retryAfter in the body instead.
package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// Products served.
const (
	ProductVB365   = "vb365"
	ProductVBAzure = "vbazure"
)

// StackTraceMarker appears in every server stack trace the emulator sends.
const StackTraceMarker = "STACKTRACE-MARKER"

// AntiforgeryCookieName is the cookie VB365 sets on antiforgery sessions.
const AntiforgeryCookieName = ".AspNetCore.Antiforgery.vb365"

// DefaultMFATTL is how long a vbazure mfa_token stays usable.
const DefaultMFATTL = 5 * time.Minute

// Garbage kinds for GarbageNext.
const (
	GarbageHTML      = "html"
	GarbageTruncated = "truncated"
	GarbageEmpty     = "empty"
)

// Options configure an Emulator.
type Options struct {
	Product           string        // "vb365" or "vbazure"
	AccessTTL         time.Duration // default 1h; expires_in is computed from it
	RefreshTTL        time.Duration // default 14 days
	TLS               bool          // httptest certificate valid for 127.0.0.1
	RequireAPIVersion string        // vbazure: token calls must carry ?api-version=<this>
	MFATTL            time.Duration // vbazure mfa_token lifetime, default 5 min
	// APIVersion is the vb365 REST API version served: "v6", "v7" or "v8"
	// (default). Only that version's paths exist.
	APIVersion string
	// APIVersions are the x-api-version revisions a vbr, vbaws or vbgcp
	// appliance supports; another is refused as unsupported, naming these.
	// Empty: any well-formed revision (RequireAPIVersion: that one only).
	APIVersions []string
	// MFAFlagOmitted: the vbazure password step of an MFA user answers the
	// mfa_token without mfa_enabled.
	MFAFlagOmitted bool
}

// Counts is what the emulator observed.
type Counts struct {
	TokenCalls         int            // every POST to the token endpoint (faulted ones too)
	Grants             map[string]int // successful grants per grant_type as sent
	FailedGrants       map[string]int // grants rejected by the model per grant_type as sent
	RefreshReuse       int            // a used refresh token presented again
	AntiforgeryRejects int
	Logouts            int // successful logouts
	AuthCodes          int
	ProtectedOK        int
	ProtectedDenied    int
	Faults             int // grant calls answered by an armed fault
}

type fault struct {
	kind       string // fail, garbage, drop, hang
	status     int
	retryAfter time.Duration
	garbage    string
}

type identity struct {
	name, secret, mfaCode string
}

type session struct {
	user        string
	userID      string
	antiforgery bool
	cookie      string
	shortLived  bool
	access      []string
	refresh     string
	closed      bool
}

type accessToken struct {
	s       *session
	expires time.Time
	dead    bool
}

type refreshToken struct {
	s       *session
	expires time.Time
	used    bool
	revoked bool
}

type mfaToken struct {
	user    identity
	expires time.Time
	used    bool
}

// Emulator is a running fake Veeam server. All methods are safe for
// concurrent use.
type Emulator struct {
	opts      Options
	srv       *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once

	mu            sync.Mutex
	accessTTL     time.Duration
	delay         time.Duration
	faults        []fault
	users         map[string]identity // lower-case username
	jwtClients    map[string]identity
	operators     map[string]identity
	access        map[string]*accessToken
	refresh       map[string]*refreshToken
	mfa           map[string]*mfaToken
	counts        Counts
	lastForm      url.Values
	lastQuery     url.Values
	lastHeader    http.Header
	apiKeys       map[string]identity // vspc API keys
	lastProtected http.Header         // vspc: headers of the last protected call
}

// New starts an emulator listening on 127.0.0.1 (loopback only).
func New(opts Options) (*Emulator, error) {
	sp, ok := products[opts.Product]
	if !ok {
		return nil, fmt.Errorf("emulator: unknown product %q (want one of %s)", opts.Product, strings.Join(Products(), ", "))
	}
	if opts.AccessTTL <= 0 {
		opts.AccessTTL = sp.accessTTL
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 14 * 24 * time.Hour
	}
	if opts.MFATTL <= 0 {
		opts.MFATTL = DefaultMFATTL
	}
	if opts.Product == ProductVB365 {
		switch opts.APIVersion {
		case "":
			opts.APIVersion = "v8"
		case "v6", "v7", "v8":
		default:
			return nil, fmt.Errorf("emulator: vb365 APIVersion %q is not v6, v7 or v8", opts.APIVersion)
		}
	}
	if len(opts.APIVersions) == 0 && opts.RequireAPIVersion != "" {
		opts.APIVersions = []string{opts.RequireAPIVersion}
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("emulator: listen: %w", err)
	}
	e := &Emulator{
		opts:       opts,
		closing:    make(chan struct{}),
		accessTTL:  opts.AccessTTL,
		users:      map[string]identity{},
		jwtClients: map[string]identity{},
		operators:  map[string]identity{},
		access:     map[string]*accessToken{},
		refresh:    map[string]*refreshToken{},
		mfa:        map[string]*mfaToken{},
		counts:     Counts{Grants: map[string]int{}, FailedGrants: map[string]int{}},
	}
	srv := httptest.NewUnstartedServer(e)
	srv.Listener.Close()
	srv.Listener = l
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshake noise from distrusting clients
	srv.Config.ReadHeaderTimeout = 30 * time.Second
	if opts.TLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	e.srv = srv
	return e, nil
}

// URL is the base URL, e.g. https://127.0.0.1:41234.
func (e *Emulator) URL() string { return e.srv.URL }

// TokenPath is the product's token endpoint path (vb365: of the version served).
func (e *Emulator) TokenPath() string {
	return e.versionedPath(products[e.opts.Product].tokenPath)
}

// ProtectedPath is the path of the product's protected resource.
func (e *Emulator) ProtectedPath() string {
	return e.versionedPath(products[e.opts.Product].protectedPath)
}

// TokenPrefixes are the prefixes of every secret the emulator hands out
// (access, refresh, mfa tokens, antiforgery cookie values, auth codes).
func (e *Emulator) TokenPrefixes() []string {
	p := e.opts.Product
	return []string{p + "-at-", p + "-rt-", p + "-mfa-", p + "-af-", p + "-ac-"}
}

// CACertPEM is the PEM of the server certificate (nil without TLS).
func (e *Emulator) CACertPEM() []byte {
	if !e.opts.TLS {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw})
}

// Client is an HTTP client that trusts the server certificate.
func (e *Emulator) Client() *http.Client { return e.srv.Client() }

// Close stops the server. Hung and delayed requests are aborted (their
// connections closed without an answer); Close returns promptly.
func (e *Emulator) Close() {
	e.closeOnce.Do(func() {
		close(e.closing)
		e.srv.CloseClientConnections()
		e.srv.Close()
	})
}

// AddUser registers a username (matched case-insensitively) and password.
func (e *Emulator) AddUser(username, password string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users[strings.ToLower(username)] = identity{name: username, secret: password}
}

// AddMFAUser registers a vbazure user whose password step answers
// mfa_enabled:true and an mfa_token; grant Mfa with mfaCode completes it.
// On vb365 (no MFA) it is AddUser.
func (e *Emulator) AddMFAUser(username, password, mfaCode string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := identity{name: username, secret: password}
	if products[e.opts.Product].mfa {
		id.mfaCode = mfaCode
	}
	e.users[strings.ToLower(username)] = id
}

// AddJWTClient registers a vb365 jwt-bearer client_id and its assertion.
func (e *Emulator) AddJWTClient(clientID, assertion string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.jwtClients[clientID] = identity{name: clientID, secret: assertion}
}

// AddOperator registers a vb365 operator client_id ("userId.tenantId") and its assertion.
func (e *Emulator) AddOperator(clientID, assertion string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.operators[clientID] = identity{name: clientID, secret: assertion}
}

func (e *Emulator) arm(n int, f fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := 0; i < n; i++ {
		e.faults = append(e.faults, f)
	}
}

// FailNext makes the next n grant calls answer status in the product's error
// shape, with Retry-After (whole seconds, rounded up) when retryAfter > 0.
func (e *Emulator) FailNext(n int, status int, retryAfter time.Duration) {
	e.arm(n, fault{kind: "fail", status: status, retryAfter: retryAfter})
}

// GarbageNext makes the next n grant calls answer 200 with garbage: kind
// "html" (a proxy page as text/html), "truncated" (application/json cut half
// way) or "empty" (application/json, no body). Another kind panics.
func (e *Emulator) GarbageNext(n int, kind string) {
	switch kind {
	case GarbageHTML, GarbageTruncated, GarbageEmpty:
	default:
		panic(fmt.Sprintf("emulator: GarbageNext: unknown kind %q", kind))
	}
	e.arm(n, fault{kind: "garbage", garbage: kind})
}

// DropNext makes the next n grant calls close the connection without answering.
func (e *Emulator) DropNext(n int) { e.arm(n, fault{kind: "drop"}) }

// HangNext makes the next n grant calls never answer, until the client gives
// up or Close is called.
func (e *Emulator) HangNext(n int) { e.arm(n, fault{kind: "hang"}) }

// ClearFaults drops every armed fault and the delay.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
	e.delay = 0
}

// SetDelay delays every grant answer by d (0: none).
func (e *Emulator) SetDelay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.delay = d
}

// RevokeRefreshTokens invalidates every refresh token issued so far.
func (e *Emulator) RevokeRefreshTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, rt := range e.refresh {
		rt.revoked = true
	}
}

// SetAccessTTL sets the lifetime of access tokens issued from now on.
func (e *Emulator) SetAccessTTL(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d <= 0 {
		d = time.Hour
	}
	e.accessTTL = d
}

// ExpireAccessTokens makes every access token issued so far invalid.
func (e *Emulator) ExpireAccessTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, at := range e.access {
		at.dead = true
	}
}

// Counts is a deep copy of the observations so far.
func (e *Emulator) Counts() Counts {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.counts
	c.Grants = make(map[string]int, len(e.counts.Grants))
	for k, v := range e.counts.Grants {
		c.Grants[k] = v
	}
	c.FailedGrants = make(map[string]int, len(e.counts.FailedGrants))
	for k, v := range e.counts.FailedGrants {
		c.FailedGrants[k] = v
	}
	return c
}

// Valid reports whether accessToken would be accepted now.
func (e *Emulator) Valid(accessToken string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.validLocked(accessToken) != nil
}

// LastForm is a copy of the body form of the last grant call, as sent.
func (e *Emulator) LastForm() url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return cloneValues(e.lastForm)
}

// LastQuery is a copy of the query parameters of the last grant call.
func (e *Emulator) LastQuery() url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return cloneValues(e.lastQuery)
}

// LastHeader is a copy of the request headers of the last grant call.
func (e *Emulator) LastHeader() http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastHeader.Clone()
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return url.Values{}
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// endpoint is how a product serves one path: method is the only method it
// takes (another is answered 405 naming it); "" leaves the method to serve.
type endpoint struct {
	method string
	serve  func(e *Emulator, w http.ResponseWriter, r *http.Request)
}

// ServeHTTP routes to the product's endpoint whose path (a path.Match
// pattern; vb365: of the version served) matches, or answers 404.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := requestPath(r)
	for pattern, ep := range products[e.opts.Product].endpoints {
		if ok, _ := path.Match(strings.ToLower(e.versionedPath(pattern)), p); !ok {
			continue
		}
		if ep.method != "" && r.Method != ep.method {
			e.methodNotAllowed(w, r, ep.method)
			return
		}
		ep.serve(e, w, r)
		return
	}
	e.writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.")
}

// requestPath is r's path as the products match it: case-insensitive, as
// on ASP.NET, and without a trailing slash.
func requestPath(r *http.Request) string {
	return strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
}

// ---- shared machinery ----

func randomToken(prefix string) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func (e *Emulator) prefix(kind string) string { return e.opts.Product + "-" + kind + "-" }

// userID derives a stable GUID-looking id from a name.
func userID(name string) string {
	h := sha256.Sum256([]byte(strings.ToLower(name)))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// netTime formats like .NET's round-trip "o" format in UTC.
func netTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

type issued struct {
	access, refresh string
	issuedAt        time.Time
	expiresAt       time.Time
	expiresIn       int
	s               *session
}

// issueLocked adds a fresh access/refresh pair to s (and, on an antiforgery
// session, a fresh cookie).
func (e *Emulator) issueLocked(s *session) issued {
	now := time.Now()
	ttl := e.accessTTL
	at := randomToken(e.prefix("at"))
	rt := randomToken(e.prefix("rt"))
	e.access[at] = &accessToken{s: s, expires: now.Add(ttl)}
	rttl := e.opts.RefreshTTL
	if s.shortLived && rttl > time.Hour {
		rttl = time.Hour
	}
	e.refresh[rt] = &refreshToken{s: s, expires: now.Add(rttl)}
	s.access = append(s.access, at)
	s.refresh = rt
	if s.antiforgery {
		s.cookie = randomToken(e.prefix("af")) // a new cookie with every pair
	}
	return issued{access: at, refresh: rt, issuedAt: now, expiresAt: now.Add(ttl), expiresIn: int(ttl / time.Second), s: s}
}

func (e *Emulator) validLocked(token string) *accessToken {
	at := e.access[token]
	if at == nil || at.dead || at.s.closed || !time.Now().Before(at.expires) {
		return nil
	}
	return at
}

// bearerOf is the token of r's "Authorization: Bearer" header, or "".
func bearerOf(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// bearerLocked returns the live access token record of the request, or nil.
func (e *Emulator) bearerLocked(r *http.Request) *accessToken {
	return e.validLocked(bearerOf(r))
}

// endSessionLocked is logout: every token of the session dies.
func (e *Emulator) endSessionLocked(s *session) {
	s.closed = true
	for _, a := range s.access {
		if at := e.access[a]; at != nil {
			at.dead = true
		}
	}
	if rt := e.refresh[s.refresh]; rt != nil {
		rt.revoked = true
	}
}

// newSession is the session a password or MFA login of name opens.
func newSession(name string) *session { return &session{user: name, userID: userID(name)} }

// openSession issues the first pair of the new session s and counts the grant.
func (e *Emulator) openSession(grant string, s *session) issued {
	e.mu.Lock()
	defer e.mu.Unlock()
	tok := e.issueLocked(s)
	e.counts.Grants[grant]++
	return tok
}

// refreshSession is the rotation of every product: rt is validated (check,
// when not nil, runs last), consumed, and a new pair is issued in its
// session and counted under grant.
func (e *Emulator) refreshSession(rt, grant string, check func(*session) error) (issued, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.useRefreshLocked(rt, check)
	if err != nil {
		return issued{}, err
	}
	tok := e.issueLocked(st.s)
	e.counts.Grants[grant]++
	return tok, nil
}

// rotate runs a refresh grant with refreshSession. On failure reject is
// called with 400 (rt missing) or 401.
func (e *Emulator) rotate(rt, grant string, reject func(status int, msg string)) (issued, bool) {
	if rt == "" {
		reject(http.StatusBadRequest, "The refresh_token parameter is required for the refresh_token grant type.")
		return issued{}, false
	}
	tok, err := e.refreshSession(rt, grant, nil)
	if err != nil {
		reject(http.StatusUnauthorized, err.Error())
		return issued{}, false
	}
	return tok, true
}

// useRefreshLocked validates rt (check runs last, before it is consumed) and
// marks it used.
func (e *Emulator) useRefreshLocked(rt string, check func(*session) error) (*refreshToken, error) {
	st := e.refresh[rt]
	switch {
	case st == nil:
		return nil, errString("The refresh token is invalid.")
	case st.used:
		e.counts.RefreshReuse++
		return nil, errString("The refresh token has already been used.")
	case st.revoked || st.s.closed:
		return nil, errString("The refresh token has been revoked.")
	case !time.Now().Before(st.expires):
		return nil, errString("The refresh token has expired.")
	}
	if check != nil {
		if err := check(st.s); err != nil {
			return nil, err
		}
	}
	st.used = true
	return st, nil
}

type errString string

func (s errString) Error() string { return string(s) }

// startMFA is the password step of an MFA user: it stores a new mfa_token
// for id, counts the grant and returns the token.
func (e *Emulator) startMFA(id identity, grant string) string {
	mt := randomToken(e.prefix("mfa"))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mfa[mt] = &mfaToken{user: id, expires: time.Now().Add(e.opts.MFATTL)}
	e.counts.Grants[grant]++
	return mt
}

// finishMFA redeems mfa_token mt with code: on success it opens the user's
// session (shortLived as asked) and counts the grant; otherwise it returns
// the failure's message. A wrong code leaves mt usable until it expires.
func (e *Emulator) finishMFA(mt, code, grant string, shortLived bool) (issued, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.mfa[mt]
	switch {
	case st == nil || st.used || !time.Now().Before(st.expires):
		return issued{}, "The MFA token is invalid or has expired."
	case st.user.mfaCode != code:
		return issued{}, "The verification code is invalid."
	}
	st.used = true
	s := newSession(st.user.name)
	s.shortLived = shortLived
	tok := e.issueLocked(s)
	e.counts.Grants[grant]++
	return tok, ""
}

// checkPassword looks a user up (case-insensitively) and checks the password.
func (e *Emulator) checkPassword(user, pass string) (identity, bool) {
	if user == "" || pass == "" {
		return identity{}, false
	}
	e.mu.Lock()
	id, ok := e.users[strings.ToLower(user)]
	e.mu.Unlock()
	return id, ok && id.secret == pass
}

// rejectFunc refuses a grant call: status, the error code (where the
// product's error shape has one) and the message.
type rejectFunc func(status int, code, msg string)

// refusal is one reject call's arguments.
type refusal struct {
	status    int
	code, msg string
}

func (rf refusal) send(reject rejectFunc) { reject(rf.status, rf.code, rf.msg) }

// grantWords are how a product refuses the grants most products share
// (see passwordOrRefresh).
type grantWords struct {
	noLogin, wrongLogin refusal // see login
	// badRefresh refuses a refresh token: status is 400 (none was sent) or
	// 401, msg the emulator's reason.
	badRefresh func(status int, msg string) refusal
	// other refuses any other grant_type, "" included.
	other func(grant string) refusal
}

// login checks a password grant's username and password: wrong ones are
// refused with wrongLogin, and an empty one with noLogin, or as wrong when
// noLogin is zero (the product does not tell them apart).
func (e *Emulator) login(user, pass string, reject rejectFunc, noLogin, wrongLogin refusal) (identity, bool) {
	id, ok := e.checkPassword(user, pass)
	switch {
	case (user == "" || pass == "") && noLogin.status != 0:
		noLogin.send(reject)
	case !ok:
		wrongLogin.send(reject)
	default:
		return id, true
	}
	return identity{}, false
}

// passwordOrRefresh runs grant_type password or refresh_token of the form
// f, refusing in the product's words; another grant_type is refused with
// words.other. It returns false when the call was refused.
func (e *Emulator) passwordOrRefresh(f url.Values, grant string, reject rejectFunc, words grantWords) (issued, bool) {
	switch grant {
	case "password":
		id, ok := e.login(f.Get("username"), f.Get("password"), reject, words.noLogin, words.wrongLogin)
		if !ok {
			return issued{}, false
		}
		return e.openSession(grant, newSession(id.name)), true
	case "refresh_token":
		return e.rotate(f.Get("refresh_token"), grant, func(status int, msg string) {
			words.badRefresh(status, msg).send(reject)
		})
	}
	words.other(grant).send(reject)
	return issued{}, false
}

// rejecter is the reject of a grant call: it counts FailedGrants[grant] and
// answers in the product's error shape; challenge adds "WWW-Authenticate:
// Bearer" to 401 answers.
func (e *Emulator) rejecter(w http.ResponseWriter, grant string, challenge bool) rejectFunc {
	return func(status int, code, msg string) {
		e.failGrant(grant)
		if challenge && status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		e.writeError(w, status, code, msg)
	}
}

// writeToken answers a grant that issued tokens: 200, no-store, v as JSON.
func writeToken(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "no-store")
	writeOK(w, v)
}

// writeOK answers 200 with v as JSON.
func writeOK(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", v)
}

// logout ends the session of r's bearer and counts it; when the bearer is
// not live it answers 401 and returns false.
func (e *Emulator) logout(w http.ResponseWriter, r *http.Request) bool {
	e.mu.Lock()
	at := e.bearerLocked(r)
	if at != nil {
		e.endSessionLocked(at.s)
		e.counts.Logouts++
	}
	e.mu.Unlock()
	if at == nil {
		unauthorized(w, e)
		return false
	}
	return true
}

// protected checks a protected call: GET only, then authorize.
func (e *Emulator) protected(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		e.writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Method not allowed.")
		return false
	}
	return e.authorize(w, r, nil)
}

// authorize counts a protected call as ProtectedOK or ProtectedDenied and
// answers 401 when r's bearer is not a live access token; apiKey, when not
// nil, is asked under the lock whether it accepts the bearer instead (vspc).
func (e *Emulator) authorize(w http.ResponseWriter, r *http.Request, apiKey func(bearer string) bool) bool {
	e.mu.Lock()
	ok := e.bearerLocked(r) != nil || apiKey != nil && apiKey(bearerOf(r))
	if ok {
		e.counts.ProtectedOK++
	} else {
		e.counts.ProtectedDenied++
	}
	e.mu.Unlock()
	if !ok {
		unauthorized(w, e)
	}
	return ok
}

func unauthorized(w http.ResponseWriter, e *Emulator) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	e.writeError(w, http.StatusUnauthorized, "AccessDenied", "Authorization has been denied for this request.")
}

func (e *Emulator) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	e.writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '"+r.Method+"'.")
}

// abort aborts the handler: the connection is closed with no answer.
func abort() { panic(http.ErrAbortHandler) }

// wait sleeps d unless the client goes away or the emulator closes.
func (e *Emulator) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-e.closing:
	}
	return false
}

// beginGrant handles everything common to a grant call: parsing, counting,
// recording, delay and faults. It returns false when the call was answered.
func (e *Emulator) beginGrant(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	parseErr := r.ParseForm()
	e.mu.Lock()
	e.counts.TokenCalls++
	e.lastForm = cloneValues(r.PostForm)
	e.lastQuery = cloneValues(r.URL.Query())
	e.lastHeader = r.Header.Clone()
	delay := e.delay
	var f *fault
	if len(e.faults) > 0 {
		f = &e.faults[0]
		e.faults = e.faults[1:]
		e.counts.Faults++
	}
	e.mu.Unlock()

	if delay > 0 && !e.wait(r, delay) {
		abort()
	}
	if f != nil {
		e.serveFault(w, r, *f)
		return false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		e.failGrant("")
		e.writeError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"Unsupported content type "+fmt.Sprintf("%q", ct)+"; the token endpoint takes application/x-www-form-urlencoded.")
		return false
	}
	if parseErr != nil {
		e.failGrant("")
		e.writeError(w, http.StatusBadRequest, "BadRequest", "The request body could not be read.")
		return false
	}
	return true
}

func (e *Emulator) failGrant(grant string) {
	e.mu.Lock()
	e.counts.FailedGrants[grant]++
	e.mu.Unlock()
}

func (e *Emulator) serveFault(w http.ResponseWriter, r *http.Request, f fault) {
	switch f.kind {
	case "hang":
		select {
		case <-r.Context().Done():
		case <-e.closing:
		}
		abort()
	case "drop":
		hj, ok := w.(http.Hijacker)
		if !ok {
			abort()
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			abort()
		}
		conn.Close()
	case "fail":
		if f.retryAfter > 0 {
			secs := int((f.retryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", fmt.Sprint(secs))
		}
		e.writeError(w, f.status, statusCode(f.status), faultMessage(f.status))
	case "garbage":
		e.serveGarbage(w, f.garbage)
	}
}

func faultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Too many requests. The number of logon attempts is limited; try again later."
	case http.StatusServiceUnavailable:
		return "The service is temporarily unavailable."
	}
	if t := http.StatusText(status); t != "" {
		return t + "."
	}
	return "Error."
}

func statusCode(status int) string {
	switch status {
	case 400:
		return "BadRequest"
	case 401:
		return "AccessDenied"
	case 403:
		return "Forbidden"
	case 404:
		return "NotFound"
	case 429:
		return "TooManyRequests"
	case 503:
		return "ServiceUnavailable"
	}
	if status >= 500 {
		return "InternalServerError"
	}
	return "Error"
}

const proxyPage = `<!DOCTYPE html>
<html><head><title>Web Filter - Authentication Required</title></head>
<body><h1>Authentication required</h1>
<p>Your request was intercepted by the corporate proxy. Please sign in to continue browsing.</p>
<form method="post" action="/__proxy/login"><input name="user"><input name="pass" type="password"></form>
</body></html>
`

func (e *Emulator) serveGarbage(w http.ResponseWriter, kind string) {
	switch kind {
	case GarbageHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, proxyPage)
	case GarbageEmpty:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case GarbageTruncated:
		now := time.Now()
		body := fmt.Sprintf(`{"access_token":%q,"refresh_token":%q,"token_type":"bearer","expires_in":3600,".issued":%q,".expires":%q}`,
			randomToken(e.prefix("at")), randomToken(e.prefix("rt")), netTime(now), netTime(now.Add(time.Hour)))
		body = body[:len(body)/2]
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, body)
	}
}

// writeError answers in the product's error shape.
func (e *Emulator) writeError(w http.ResponseWriter, status int, code, msg string) {
	products[e.opts.Product].writeError(w, status, code, msg)
}

var errNoCookie = errors.New("no antiforgery cookie")
