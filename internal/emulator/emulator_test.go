package emulator

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func start(t *testing.T, opts Options) *Emulator {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (a answer) str(k string) string {
	s, _ := a.json[k].(string)
	return s
}

func do(t *testing.T, e *Emulator, method, path string, form url.Values, hdr map[string]string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if len(b) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		_ = json.Unmarshal(b, &a.json)
	}
	return a
}

func grant(t *testing.T, e *Emulator, form url.Values, hdr map[string]string) answer {
	t.Helper()
	return do(t, e, http.MethodPost, e.TokenPath(), form, hdr)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func wantStatus(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
}

func wantVB365Error(t *testing.T, a answer, status int, code string) {
	t.Helper()
	wantStatus(t, a, status)
	if a.str("errorCode") != code || a.str("message") == "" {
		t.Fatalf("error body %s, want errorCode %q and a message", a.body, code)
	}
	if !strings.Contains(a.str("stackTrace"), StackTraceMarker) {
		t.Fatalf("stackTrace without marker: %s", a.body)
	}
}

func wantProblem(t *testing.T, a answer, status int) {
	t.Helper()
	wantStatus(t, a, status)
	if !strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("content type %q", a.header.Get("Content-Type"))
	}
	if int(a.json["status"].(float64)) != status || a.str("title") == "" || a.str("detail") == "" ||
		!strings.HasPrefix(a.str("type"), "https://tools.ietf.org/") || !strings.HasPrefix(a.str("traceId"), "00-") {
		t.Fatalf("problem body %s", a.body)
	}
	if _, ok := a.json["errors"].(map[string]any); !ok {
		t.Fatalf("problem without errors object: %s", a.body)
	}
}

func antiforgeryCookie(a answer) *http.Cookie {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == AntiforgeryCookieName {
			return c
		}
	}
	return nil
}

func vb365Password(user, pass string, disableAF bool) url.Values {
	f := url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}}
	if disableAF {
		f.Set("disable_antiforgery_token", "true")
	}
	return f
}

func TestNewRejectsUnknownProduct(t *testing.T) {
	if e, err := New(Options{Product: "vbx"}); err == nil {
		e.Close()
		t.Fatal("unknown product accepted")
	}
}

func TestVB365PasswordGrant(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	if !strings.HasPrefix(e.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %q", e.URL())
	}
	block, _ := pem.Decode(e.CACertPEM())
	if block == nil {
		t.Fatal("no CA PEM")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	e.AddUser(`corp\svc`, "pa$$word")
	before := time.Now().UTC()
	a := grant(t, e, vb365Password(`CORP\svc`, "pa$$word", true), nil)
	wantStatus(t, a, 200)
	at, rt := a.str("access_token"), a.str("refresh_token")
	if !strings.HasPrefix(at, "vb365-at-") || !strings.HasPrefix(rt, "vb365-rt-") {
		t.Fatalf("token prefixes: %s", a.body)
	}
	if a.str("token_type") != "bearer" || a.json["expires_in"].(float64) != 3600 || a.str("userName") != `corp\svc` {
		t.Fatalf("answer %s", a.body)
	}
	issued, err := time.Parse(time.RFC3339Nano, a.str(".issued"))
	if err != nil {
		t.Fatal(err)
	}
	expires, err := time.Parse(time.RFC3339Nano, a.str(".expires"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(a.str(".expires"), "Z") || expires.Sub(issued) != time.Hour || issued.Before(before.Add(-time.Second)) {
		t.Fatalf(".issued %s .expires %s", a.str(".issued"), a.str(".expires"))
	}
	if antiforgeryCookie(a) != nil {
		t.Fatal("antiforgery cookie set although disabled")
	}
	if !e.Valid(at) || e.Valid(rt) || e.Valid("nope") {
		t.Fatal("Valid wrong")
	}
	if f := e.LastForm(); f.Get("username") != `CORP\svc` || f.Get("disable_antiforgery_token") != "true" {
		t.Fatalf("LastForm %v", f)
	}
	c := e.Counts()
	if c.TokenCalls != 1 || c.Grants["password"] != 1 || len(c.FailedGrants) != 0 {
		t.Fatalf("counts %+v", c)
	}
	// Counts is a deep copy.
	c.Grants["password"] = 99
	if e.Counts().Grants["password"] != 1 {
		t.Fatal("Counts shares its maps")
	}
}

func TestVB365Rejections(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	e.AddUser("admin", "right")
	wantVB365Error(t, grant(t, e, vb365Password("admin", "wrong", true), nil), 400, "AccessDenied")
	wantVB365Error(t, grant(t, e, vb365Password("nobody", "right", true), nil), 400, "AccessDenied")
	wantVB365Error(t, grant(t, e, url.Values{"grant_type": {"password"}, "username": {"admin"}}, nil), 400, "BadRequest")
	wantVB365Error(t, grant(t, e, url.Values{"grant_type": {"client_credentials"}}, nil), 400, "BadRequest")
	wantVB365Error(t, grant(t, e, url.Values{"username": {"admin"}, "password": {"right"}}, nil), 400, "BadRequest")
	// vb365 grant_type values are the documented lower-case enum.
	wantVB365Error(t, grant(t, e, url.Values{"grant_type": {"Password"}, "username": {"admin"}, "password": {"right"}}, nil), 400, "BadRequest")
	// JSON instead of a form.
	req, _ := http.NewRequest(http.MethodPost, e.URL()+"/v8/token", strings.NewReader(`{"grant_type":"password"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("json body: %d", resp.StatusCode)
	}
	// GET on the token endpoint.
	wantStatus(t, do(t, e, http.MethodGet, "/v8/token", nil, nil), 405)
	c := e.Counts()
	if c.TokenCalls != 7 || c.FailedGrants["password"] != 3 || c.FailedGrants["client_credentials"] != 1 ||
		c.FailedGrants["Password"] != 1 || c.FailedGrants[""] != 2 || len(c.Grants) != 0 {
		t.Fatalf("counts %+v", c)
	}
}

func TestVB365JWTAndOperator(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	e.AddJWTClient("app-1", "assert-1")
	e.AddOperator("user-7.tenant-9", "assert-op")
	jwt := func(cid, as string) url.Values {
		return url.Values{"grant_type": {vb365GrantJWT}, "client_id": {cid}, "assertion": {as}, "disable_antiforgery_token": {"true"}}
	}
	op := func(cid, as string) url.Values {
		return url.Values{"grant_type": {"operator"}, "client_id": {cid}, "assertion": {as}, "disable_antiforgery_token": {"true"}}
	}
	a := grant(t, e, jwt("app-1", "assert-1"), nil)
	wantStatus(t, a, 200)
	if !e.Valid(a.str("access_token")) || a.str("userName") != "app-1" {
		t.Fatalf("jwt answer %s", a.body)
	}
	wantVB365Error(t, grant(t, e, jwt("app-1", "other"), nil), 400, "AccessDenied")
	wantVB365Error(t, grant(t, e, jwt("app-2", "assert-1"), nil), 400, "AccessDenied")
	// An operator identity is not a jwt client.
	wantVB365Error(t, grant(t, e, jwt("user-7.tenant-9", "assert-op"), nil), 400, "AccessDenied")

	a = grant(t, e, op("user-7.tenant-9", "assert-op"), nil)
	wantStatus(t, a, 200)
	if !e.Valid(a.str("access_token")) {
		t.Fatal("operator token invalid")
	}
	wantVB365Error(t, grant(t, e, op("user-7.tenant-9", "bad"), nil), 400, "AccessDenied")
	wantVB365Error(t, grant(t, e, op("user-7", "assert-op"), nil), 400, "BadRequest")
	wantVB365Error(t, grant(t, e, op("", "assert-op"), nil), 400, "BadRequest")
	c := e.Counts()
	if c.Grants[vb365GrantJWT] != 1 || c.Grants["operator"] != 1 || c.FailedGrants[vb365GrantJWT] != 3 || c.FailedGrants["operator"] != 3 {
		t.Fatalf("counts %+v", c)
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

func TestVB365Antiforgery(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	e.AddUser("admin", "pw")
	a := grant(t, e, vb365Password("admin", "pw", false), nil)
	wantStatus(t, a, 200)
	c1 := antiforgeryCookie(a)
	if c1 == nil || !strings.HasPrefix(c1.Value, "vb365-af-") || !c1.HttpOnly || !c1.Secure || c1.Path != "/" || c1.SameSite != http.SameSiteStrictMode {
		t.Fatalf("antiforgery cookie %+v (Set-Cookie %q)", c1, a.header.Values("Set-Cookie"))
	}
	rt := a.str("refresh_token")

	// No cookie: rejected, the refresh token is not consumed.
	wantVB365Error(t, grant(t, e, refreshForm(rt), nil), 400, "AntiforgeryValidationFailed")
	// Wrong cookie value: rejected too.
	wantVB365Error(t, grant(t, e, refreshForm(rt), map[string]string{"Cookie": AntiforgeryCookieName + "=forged"}), 400, "AntiforgeryValidationFailed")
	// Sending disable_antiforgery_token on the refresh does not lift it.
	f := refreshForm(rt)
	f.Set("disable_antiforgery_token", "true")
	wantVB365Error(t, grant(t, e, f, nil), 400, "AntiforgeryValidationFailed")
	if c := e.Counts(); c.AntiforgeryRejects != 3 || c.RefreshReuse != 0 || c.FailedGrants["refresh_token"] != 3 {
		t.Fatalf("counts %+v", c)
	}

	a2 := grant(t, e, refreshForm(rt), map[string]string{"Cookie": c1.Name + "=" + c1.Value})
	wantStatus(t, a2, 200)
	c2 := antiforgeryCookie(a2)
	if c2 == nil || c2.Value == c1.Value {
		t.Fatalf("refresh did not rotate the cookie: %+v", c2)
	}
	rt2 := a2.str("refresh_token")
	// The old cookie no longer works for the new refresh token; the new one does.
	wantVB365Error(t, grant(t, e, refreshForm(rt2), map[string]string{"Cookie": c1.Name + "=" + c1.Value}), 400, "AntiforgeryValidationFailed")
	a3 := grant(t, e, refreshForm(rt2), map[string]string{"Cookie": "other=1; " + c2.Name + "=" + c2.Value})
	wantStatus(t, a3, 200)
	if antiforgeryCookie(a3) == nil {
		t.Fatal("session lost antiforgery")
	}
	if c := e.Counts(); c.AntiforgeryRejects != 4 || c.Grants["refresh_token"] != 2 {
		t.Fatalf("counts %+v", c)
	}
}

func TestVB365AntiforgeryCookieNotSecureOverHTTP(t *testing.T) {
	e := start(t, Options{Product: ProductVB365})
	e.AddUser("admin", "pw")
	a := grant(t, e, vb365Password("admin", "pw", false), nil)
	wantStatus(t, a, 200)
	if c := antiforgeryCookie(a); c == nil || c.Secure {
		t.Fatalf("cookie over plain http: %+v", c)
	}
	if !strings.HasPrefix(e.URL(), "http://127.0.0.1:") || e.CACertPEM() != nil {
		t.Fatalf("plain emulator: %s", e.URL())
	}
}

func TestVB365DisabledAntiforgeryRefreshesWithoutCookie(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	e.AddUser("admin", "pw")
	a := grant(t, e, vb365Password("admin", "pw", true), nil)
	wantStatus(t, a, 200)
	a2 := grant(t, e, refreshForm(a.str("refresh_token")), nil)
	wantStatus(t, a2, 200)
	if antiforgeryCookie(a2) != nil {
		t.Fatal("cookie on a non-antiforgery refresh")
	}
	if e.Counts().AntiforgeryRejects != 0 {
		t.Fatal("antiforgery reject counted")
	}
}

// firstTokens runs the product's primary grant for admin/pw.
func firstTokens(t *testing.T, e *Emulator) answer {
	t.Helper()
	e.AddUser("admin", "pw")
	var a answer
	if e.opts.Product == ProductVB365 {
		a = grant(t, e, vb365Password("admin", "pw", true), nil)
	} else {
		a = grant(t, e, url.Values{"grant_type": {"Password"}, "username": {"admin"}, "password": {"pw"}}, nil)
	}
	wantStatus(t, a, 200)
	return a
}

func refreshGrant(e *Emulator) string {
	if e.opts.Product == ProductVB365 {
		return "refresh_token"
	}
	return "Refresh_token"
}

func wantRejected(t *testing.T, e *Emulator, a answer, status int) {
	t.Helper()
	if e.opts.Product == ProductVB365 {
		wantVB365Error(t, a, status, statusCode(status))
	} else {
		wantProblem(t, a, status)
	}
}

func TestRotationAndReuse(t *testing.T) {
	for _, p := range []string{ProductVB365, ProductVBAzure} {
		t.Run(p, func(t *testing.T) {
			e := start(t, Options{Product: p, TLS: true})
			a := firstTokens(t, e)
			at1, rt1 := a.str("access_token"), a.str("refresh_token")
			rg := refreshGrant(e)
			a2 := grant(t, e, url.Values{"grant_type": {rg}, "refresh_token": {rt1}}, nil)
			wantStatus(t, a2, 200)
			at2, rt2 := a2.str("access_token"), a2.str("refresh_token")
			if at2 == at1 || rt2 == rt1 || at2 == "" || rt2 == "" {
				t.Fatalf("no rotation: %s", a2.body)
			}
			if !e.Valid(at1) || !e.Valid(at2) {
				t.Fatal("access tokens should both stay valid until expiry")
			}
			// Reuse of the first refresh token.
			wantRejected(t, e, grant(t, e, url.Values{"grant_type": {rg}, "refresh_token": {rt1}}, nil), 401)
			wantRejected(t, e, grant(t, e, url.Values{"grant_type": {rg}, "refresh_token": {rt1}}, nil), 401)
			// Unknown refresh token is not a reuse.
			wantRejected(t, e, grant(t, e, url.Values{"grant_type": {rg}, "refresh_token": {"garbage"}}, nil), 401)
			c := e.Counts()
			if c.RefreshReuse != 2 || c.Grants[rg] != 1 || c.FailedGrants[rg] != 3 {
				t.Fatalf("counts %+v", c)
			}
			// The current refresh token still works.
			wantStatus(t, grant(t, e, url.Values{"grant_type": {rg}, "refresh_token": {rt2}}, nil), 200)

			// Revocation.
			a3 := firstTokens(t, e)
			e.RevokeRefreshTokens()
			wantRejected(t, e, grant(t, e, url.Values{"grant_type": {rg}, "refresh_token": {a3.str("refresh_token")}}, nil), 401)
			if c := e.Counts(); c.RefreshReuse != 2 {
				t.Fatalf("revoked token counted as reuse: %+v", c)
			}
			if !e.Valid(a3.str("access_token")) {
				t.Fatal("revoking refresh tokens killed the access token")
			}
			// Tokens issued after the revocation work.
			a4 := firstTokens(t, e)
			wantStatus(t, grant(t, e, url.Values{"grant_type": {rg}, "refresh_token": {a4.str("refresh_token")}}, nil), 200)
		})
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, AccessTTL: time.Second})
	a := firstTokens(t, e)
	if a.json["expires_in"].(float64) != 1 {
		t.Fatalf("expires_in %v", a.json["expires_in"])
	}
	at := a.str("access_token")
	if !e.Valid(at) {
		t.Fatal("fresh token invalid")
	}
	time.Sleep(1100 * time.Millisecond)
	if e.Valid(at) {
		t.Fatal("token valid after its TTL")
	}
	wantVB365Error(t, do(t, e, http.MethodGet, e.ProtectedPath(), nil, bearer(at)), 401, "AccessDenied")

	e.SetAccessTTL(2 * time.Hour)
	a = grant(t, e, refreshForm(a.str("refresh_token")), nil)
	wantStatus(t, a, 200)
	if a.json["expires_in"].(float64) != 7200 {
		t.Fatalf("expires_in after SetAccessTTL: %v", a.json["expires_in"])
	}
	at2 := a.str("access_token")
	e.ExpireAccessTokens()
	if e.Valid(at2) {
		t.Fatal("ExpireAccessTokens left a token valid")
	}
	// The refresh token still works and new tokens are good.
	a = grant(t, e, refreshForm(a.str("refresh_token")), nil)
	wantStatus(t, a, 200)
	if !e.Valid(a.str("access_token")) {
		t.Fatal("token issued after ExpireAccessTokens invalid")
	}
}

func TestRefreshTokenExpiry(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, RefreshTTL: 200 * time.Millisecond})
	a := firstTokens(t, e)
	time.Sleep(300 * time.Millisecond)
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Refresh_token"}, "refresh_token": {a.str("refresh_token")}}, nil), 401)
}

func TestVB365LogoutAndAuthCode(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	a := firstTokens(t, e)
	at, rt := a.str("access_token"), a.str("refresh_token")

	wantVB365Error(t, do(t, e, http.MethodPost, "/v8/token/AuthCode", nil, nil), 401, "AccessDenied")
	wantVB365Error(t, do(t, e, http.MethodPost, "/v8/token/AuthCode", nil, bearer("vb365-at-forged")), 401, "AccessDenied")
	ac := do(t, e, http.MethodPost, "/v8/token/AuthCode", nil, bearer(at))
	wantStatus(t, ac, 200)
	if !strings.HasPrefix(ac.str("authCode"), "vb365-ac-") {
		t.Fatalf("authCode %s", ac.body)
	}

	wantVB365Error(t, do(t, e, http.MethodPost, "/v8/token/logout", nil, nil), 401, "AccessDenied")
	lo := do(t, e, http.MethodPost, "/v8/token/logout", nil, bearer(at))
	wantStatus(t, lo, 204)
	if e.Valid(at) {
		t.Fatal("access token valid after logout")
	}
	wantVB365Error(t, grant(t, e, refreshForm(rt), nil), 401, "AccessDenied")
	wantVB365Error(t, do(t, e, http.MethodPost, "/v8/token/logout", nil, bearer(at)), 401, "AccessDenied")
	c := e.Counts()
	if c.Logouts != 1 || c.AuthCodes != 1 || c.RefreshReuse != 0 || c.TokenCalls != 2 {
		t.Fatalf("counts %+v", c)
	}
}

func TestProtectedResource(t *testing.T) {
	for _, p := range []string{ProductVB365, ProductVBAzure} {
		t.Run(p, func(t *testing.T) {
			e := start(t, Options{Product: p, TLS: true})
			at := firstTokens(t, e).str("access_token")
			deny := do(t, e, http.MethodGet, e.ProtectedPath(), nil, nil)
			wantRejected(t, e, deny, 401)
			if !strings.HasPrefix(deny.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", deny.header.Get("WWW-Authenticate"))
			}
			wantRejected(t, e, do(t, e, http.MethodGet, e.ProtectedPath(), nil, bearer(at+"x")), 401)
			wantRejected(t, e, do(t, e, http.MethodGet, e.ProtectedPath(), nil, map[string]string{"Authorization": "Basic " + at}), 401)
			ok := do(t, e, http.MethodGet, e.ProtectedPath(), nil, bearer(at))
			wantStatus(t, ok, 200)
			if len(ok.body) == 0 || !json.Valid(ok.body) {
				t.Fatalf("protected body %q", ok.body)
			}
			// Paths are case-insensitive as on ASP.NET.
			wantStatus(t, do(t, e, http.MethodGet, strings.ToUpper(e.ProtectedPath()), nil, bearer(at)), 200)
			c := e.Counts()
			if c.ProtectedOK != 2 || c.ProtectedDenied != 3 {
				t.Fatalf("counts %+v", c)
			}
		})
	}
}

func TestVBAzurePasswordCaseInsensitive(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, TLS: true})
	e.AddUser("Administrator", "pw")
	forms := []url.Values{
		{"grant_type": {"Password"}, "Username": {"Administrator"}, "Password": {"pw"}},
		{"grant_type": {"password"}, "username": {"administrator"}, "password": {"pw"}},
		{"GRANT_TYPE": {"PASSWORD"}, "USERNAME": {"Administrator"}, "PASSWORD": {"pw"}},
		{"Username": {"Administrator"}, "Password": {"pw"}}, // grant_type is optional in the archived docs
	}
	for _, f := range forms {
		a := grant(t, e, f, nil)
		wantStatus(t, a, 200)
		if !strings.HasPrefix(a.str("access_token"), "vbazure-at-") || !strings.HasPrefix(a.str("refresh_token"), "vbazure-rt-") ||
			a.str("token_type") != "bearer" || a.str("username") != "Administrator" || a.str("roleName") != "PortalAdmin" ||
			a.str("userType") != "Internal" || a.json["mfa_enabled"] != false || a.json["shortLived"] != false ||
			a.json["expires_in"].(float64) != 3600 || len(a.str("userId")) != 36 {
			t.Fatalf("answer %s", a.body)
		}
		if _, err := time.Parse(time.RFC3339Nano, a.str(".expires")); err != nil {
			t.Fatal(err)
		}
		if !e.Valid(a.str("access_token")) {
			t.Fatal("token invalid")
		}
	}
	if f := e.LastForm(); f.Get("Username") != "Administrator" {
		t.Fatalf("LastForm keeps names as sent: %v", f)
	}
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Password"}, "Username": {"Administrator"}, "Password": {"PW"}}, nil), 401)
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Password"}, "Username": {"Administrator"}}, nil), 400)
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Saml"}}, nil), 400)
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"bogus"}}, nil), 400)
	// A refresh with a differently-cased grant and field name.
	a := grant(t, e, url.Values{"grant_type": {"Password"}, "Username": {"Administrator"}, "Password": {"pw"}}, nil)
	wantStatus(t, grant(t, e, url.Values{"Grant_Type": {"REFRESH_TOKEN"}, "Refresh_Token": {a.str("refresh_token")}}, nil), 200)
	c := e.Counts()
	if c.Grants["Password"] != 2 || c.Grants["password"] != 1 || c.Grants["PASSWORD"] != 1 || c.Grants[""] != 1 ||
		c.Grants["REFRESH_TOKEN"] != 1 || c.FailedGrants["Password"] != 2 || c.FailedGrants["Saml"] != 1 || c.FailedGrants["bogus"] != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestVBAzureShortLived(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure})
	e.AddUser("u", "p")
	a := grant(t, e, url.Values{"grant_type": {"Password"}, "Username": {"u"}, "Password": {"p"}, "short_lived_refresh_token": {"true"}}, nil)
	wantStatus(t, a, 200)
	if a.json["shortLived"] != true {
		t.Fatalf("shortLived: %s", a.body)
	}
}

func TestVBAzureMFA(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, TLS: true})
	e.AddMFAUser("mfa-user", "pw", "123456")
	step := func() string {
		a := grant(t, e, url.Values{"grant_type": {"Password"}, "Username": {"mfa-user"}, "Password": {"pw"}}, nil)
		wantStatus(t, a, 200)
		if a.json["mfa_enabled"] != true || !strings.HasPrefix(a.str("mfa_token"), "vbazure-mfa-") || a.json["access_token"] != nil || a.json["refresh_token"] != nil {
			t.Fatalf("mfa step answer %s", a.body)
		}
		return a.str("mfa_token")
	}
	mt := step()
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Mfa"}, "mfa_token": {mt}, "mfa_code": {"000000"}}, nil), 401)
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Mfa"}, "mfa_token": {mt}}, nil), 400)
	a := grant(t, e, url.Values{"grant_type": {"Mfa"}, "MFA_Token": {mt}, "mfa_code": {"123456"}}, nil)
	wantStatus(t, a, 200)
	if !e.Valid(a.str("access_token")) || a.str("username") != "mfa-user" || a.json["mfa_enabled"] != false {
		t.Fatalf("mfa answer %s", a.body)
	}
	// Single use.
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Mfa"}, "mfa_token": {mt}, "mfa_code": {"123456"}}, nil), 401)
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"mfa"}, "mfa_token": {"vbazure-mfa-forged"}, "mfa_code": {"123456"}}, nil), 401)
	// The refresh of an MFA session needs no second factor.
	wantStatus(t, grant(t, e, url.Values{"grant_type": {"Refresh_token"}, "refresh_token": {a.str("refresh_token")}}, nil), 200)
	c := e.Counts()
	if c.Grants["Password"] != 1 || c.Grants["Mfa"] != 1 || c.FailedGrants["Mfa"] != 3 || c.FailedGrants["mfa"] != 1 || c.Grants["Refresh_token"] != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestVBAzureMFATokenExpires(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, MFATTL: 150 * time.Millisecond})
	e.AddMFAUser("m", "pw", "42")
	a := grant(t, e, url.Values{"grant_type": {"Password"}, "Username": {"m"}, "Password": {"pw"}}, nil)
	wantStatus(t, a, 200)
	time.Sleep(250 * time.Millisecond)
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Mfa"}, "mfa_token": {a.str("mfa_token")}, "mfa_code": {"42"}}, nil), 401)
}

func TestVBAzureAPIVersion(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, TLS: true, RequireAPIVersion: "5.0"})
	e.AddUser("admin", "pw")
	f := url.Values{"grant_type": {"Password"}, "Username": {"admin"}, "Password": {"pw"}}
	wantProblem(t, grant(t, e, f, nil), 400)
	wantProblem(t, do(t, e, http.MethodPost, "/api/oauth2/token?api-version=4.0", f, nil), 400)
	a := do(t, e, http.MethodPost, "/api/oauth2/token?api-version=5.0", f, nil)
	wantStatus(t, a, 200)
	if q := e.LastQuery(); q.Get("api-version") != "5.0" {
		t.Fatalf("LastQuery %v", q)
	}
	at := a.str("access_token")
	// Logout needs it too.
	wantProblem(t, do(t, e, http.MethodDelete, "/api/oauth2/token", nil, bearer(at)), 400)
	wantStatus(t, do(t, e, http.MethodDelete, "/api/oauth2/token?API-Version=5.0", nil, bearer(at)), 204)
	if c := e.Counts(); c.FailedGrants["Password"] != 2 || c.Grants["Password"] != 1 || c.Logouts != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestVBAzureLogout(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, TLS: true})
	a := firstTokens(t, e)
	at, rt := a.str("access_token"), a.str("refresh_token")
	wantProblem(t, do(t, e, http.MethodDelete, "/api/oauth2/token", nil, nil), 401)
	wantStatus(t, do(t, e, http.MethodDelete, "/api/oauth2/token", nil, bearer(at)), 204)
	if e.Valid(at) {
		t.Fatal("token valid after logout")
	}
	wantProblem(t, grant(t, e, url.Values{"grant_type": {"Refresh_token"}, "refresh_token": {rt}}, nil), 401)
	wantProblem(t, do(t, e, http.MethodGet, e.ProtectedPath(), nil, bearer(at)), 401)
	if c := e.Counts(); c.Logouts != 1 || c.TokenCalls != 2 {
		t.Fatalf("counts %+v", c)
	}
}

func TestFailNext(t *testing.T) {
	for _, p := range []string{ProductVB365, ProductVBAzure} {
		t.Run(p, func(t *testing.T) {
			e := start(t, Options{Product: p, TLS: true})
			e.AddUser("admin", "pw")
			e.FailNext(2, 429, 1500*time.Millisecond)
			e.FailNext(1, 500, 0)
			form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}, "disable_antiforgery_token": {"true"}}
			for i := 0; i < 2; i++ {
				a := grant(t, e, form, nil)
				wantRejected(t, e, a, 429)
				if ra := a.header.Get("Retry-After"); ra != "2" {
					t.Fatalf("Retry-After %q", ra)
				}
			}
			a := grant(t, e, form, nil)
			wantRejected(t, e, a, 500)
			if a.header.Get("Retry-After") != "" {
				t.Fatal("Retry-After without retryAfter")
			}
			if !strings.Contains(string(a.body), StackTraceMarker) {
				t.Fatalf("500 without stack trace marker: %s", a.body)
			}
			wantStatus(t, grant(t, e, form, nil), 200)
			c := e.Counts()
			if c.TokenCalls != 4 || c.Faults != 3 || c.Grants["password"] != 1 || len(c.FailedGrants) != 0 {
				t.Fatalf("counts %+v", c)
			}
		})
	}
}

func TestGarbageNext(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	e.AddUser("admin", "pw")
	e.GarbageNext(1, GarbageHTML)
	e.GarbageNext(1, GarbageTruncated)
	e.GarbageNext(1, GarbageEmpty)
	f := vb365Password("admin", "pw", true)

	a := grant(t, e, f, nil)
	wantStatus(t, a, 200)
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(string(a.body), "<html>") {
		t.Fatalf("html garbage: %q %s", a.header.Get("Content-Type"), a.body)
	}
	a = grant(t, e, f, nil)
	wantStatus(t, a, 200)
	var v map[string]any
	if !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") || len(a.body) == 0 || json.Unmarshal(a.body, &v) == nil {
		t.Fatalf("truncated garbage parses: %q", a.body)
	}
	a = grant(t, e, f, nil)
	wantStatus(t, a, 200)
	if len(a.body) != 0 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("empty garbage: %q", a.body)
	}
	wantStatus(t, grant(t, e, f, nil), 200)
	if c := e.Counts(); c.Faults != 3 || c.Grants["password"] != 1 || len(e.access) != 1 {
		t.Fatalf("counts %+v", c)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("unknown garbage kind accepted")
		}
	}()
	e.GarbageNext(1, "xml")
}

func TestDropNext(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, TLS: true})
	e.AddUser("admin", "pw")
	e.DropNext(1)
	form := url.Values{"grant_type": {"Password"}, "Username": {"admin"}, "Password": {"pw"}}
	resp, err := e.Client().PostForm(e.URL()+e.TokenPath(), form)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped call answered %d", resp.StatusCode)
	}
	wantStatus(t, grant(t, e, form, nil), 200)
	if c := e.Counts(); c.TokenCalls != 2 || c.Faults != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestSetDelay(t *testing.T) {
	e := start(t, Options{Product: ProductVB365})
	e.AddUser("admin", "pw")
	e.SetDelay(300 * time.Millisecond)
	t0 := time.Now()
	wantStatus(t, grant(t, e, vb365Password("admin", "pw", true), nil), 200)
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("answered after %v", d)
	}
	// A client giving up during the delay gets no answer and the emulator goes on.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.URL()+"/v8/token", strings.NewReader(vb365Password("admin", "pw", true).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := e.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("answered before the delay")
	}
	e.SetDelay(0)
	t0 = time.Now()
	wantStatus(t, grant(t, e, vb365Password("admin", "pw", true), nil), 200)
	if d := time.Since(t0); d > 250*time.Millisecond {
		t.Fatalf("delay not cleared: %v", d)
	}
}

func TestHangNextClientGivesUp(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	e.AddUser("admin", "pw")
	e.HangNext(1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.URL()+"/v8/token", strings.NewReader(vb365Password("admin", "pw", true).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("hung call answered %d", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v", err)
	}
	wantStatus(t, grant(t, e, vb365Password("admin", "pw", true), nil), 200)
}

func TestCloseReturnsPromptlyWithHungRequests(t *testing.T) {
	e, err := New(Options{Product: ProductVBAzure, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	e.AddUser("admin", "pw")
	e.HangNext(3)
	client := e.Client()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.PostForm(e.URL()+e.TokenPath(), url.Values{"grant_type": {"Password"}, "Username": {"admin"}, "Password": {"pw"}})
			if err == nil {
				resp.Body.Close()
				errs <- errors.New("answered: " + resp.Status)
				return
			}
			errs <- nil
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.Counts().TokenCalls < 3 {
		if time.Now().After(deadline) {
			t.Fatal("requests never arrived")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t0 := time.Now()
	e.Close()
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("hung request: %v", err)
		}
	}
	e.Close() // idempotent
}

func TestCloseWithDelayedRequest(t *testing.T) {
	e, err := New(Options{Product: ProductVB365})
	if err != nil {
		t.Fatal(err)
	}
	e.AddUser("admin", "pw")
	e.SetDelay(time.Hour)
	done := make(chan error, 1)
	go func() {
		resp, err := e.Client().PostForm(e.URL()+"/v8/token", vb365Password("admin", "pw", true))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for e.Counts().TokenCalls < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	t0 := time.Now()
	e.Close()
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := <-done; err == nil {
		t.Fatal("delayed request answered after Close")
	}
}

func TestFaultQueueOrder(t *testing.T) {
	e := start(t, Options{Product: ProductVB365})
	e.AddUser("admin", "pw")
	e.FailNext(1, 503, 0)
	e.GarbageNext(1, GarbageEmpty)
	e.FailNext(0, 500, 0) // no-op
	f := vb365Password("admin", "pw", true)
	wantVB365Error(t, grant(t, e, f, nil), 503, "ServiceUnavailable")
	a := grant(t, e, f, nil)
	wantStatus(t, a, 200)
	if len(a.body) != 0 {
		t.Fatalf("second call not the empty garbage: %s", a.body)
	}
	wantStatus(t, grant(t, e, f, nil), 200)
	e.FailNext(5, 503, 0)
	e.ClearFaults()
	wantStatus(t, grant(t, e, f, nil), 200)
}

func TestFaultsDoNotTouchLogoutOrProtected(t *testing.T) {
	e := start(t, Options{Product: ProductVB365})
	at := firstTokens(t, e).str("access_token")
	e.FailNext(1, 503, 0)
	wantStatus(t, do(t, e, http.MethodGet, e.ProtectedPath(), nil, bearer(at)), 200)
	wantStatus(t, do(t, e, http.MethodPost, "/v8/token/logout", nil, bearer(at)), 204)
	wantVB365Error(t, grant(t, e, vb365Password("admin", "pw", true), nil), 503, "ServiceUnavailable")
}

func TestConcurrentGrants(t *testing.T) {
	e := start(t, Options{Product: ProductVB365, TLS: true})
	e.AddUser("admin", "pw")
	const n = 20
	var wg sync.WaitGroup
	tokens := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := e.Client().PostForm(e.URL()+"/v8/token", vb365Password("admin", "pw", i%2 == 0))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var v struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				t.Error(err)
				return
			}
			tokens <- v.AccessToken
			_ = e.Counts()
			_ = e.LastForm()
		}()
	}
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for tok := range tokens {
		if seen[tok] || !e.Valid(tok) {
			t.Fatalf("token %q duplicated or invalid", tok)
		}
		seen[tok] = true
	}
	if c := e.Counts(); c.TokenCalls != n || c.Grants["password"] != n || len(seen) != n {
		t.Fatalf("counts %+v, %d tokens", c, len(seen))
	}
}
