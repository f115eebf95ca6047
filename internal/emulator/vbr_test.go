package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestProductsListsEveryProduct(t *testing.T) {
	got := strings.Join(Products(), ",")
	if got != "vb365,vbaws,vbazure,vbgcp,vbr,vone,vspc" {
		t.Fatalf("Products() = %s", got)
	}
	_, err := New(Options{Product: "vbx"})
	if err == nil || !strings.Contains(err.Error(), "vspc") {
		t.Fatalf("unknown product error %v does not list the products", err)
	}
}

var apiV = map[string]string{"x-api-version": "1.1-rev0"}

func withBearer(h map[string]string, tok string) map[string]string {
	out := map[string]string{"Authorization": "Bearer " + tok}
	for k, v := range h {
		out[k] = v
	}
	return out
}

func TestVBRFlow(t *testing.T) {
	e := start(t, Options{Product: ProductVBR})
	e.AddUser(`CORP\ops`, "pw-vbr")
	pw := url.Values{"grant_type": {"password"}, "username": {`corp\ops`}, "password": {"pw-vbr"}}

	// The header is required on the token call.
	a := grant(t, e, pw, nil)
	wantStatus(t, a, 400)
	if a.str("errorCode") != "UnexpectedContent" || !strings.Contains(a.str("message"), "x-api-version") {
		t.Fatalf("missing header answer %s", a.body)
	}
	// Grant names are lower case.
	up := url.Values{"grant_type": {"Password"}, "username": {`corp\ops`}, "password": {"pw-vbr"}}
	wantStatus(t, grant(t, e, up, apiV), 400)
	// Wrong password: 401 AccessDenied.
	bad := url.Values{"grant_type": {"password"}, "username": {`corp\ops`}, "password": {"nope"}}
	if a := grant(t, e, bad, apiV); a.status != 401 || a.str("errorCode") != "AccessDenied" {
		t.Fatalf("wrong password: %d %s", a.status, a.body)
	}

	a = grant(t, e, pw, apiV)
	wantStatus(t, a, 200)
	at, rt := a.str("access_token"), a.str("refresh_token")
	if !strings.HasPrefix(at, "vbr-at-") || !strings.HasPrefix(rt, "vbr-rt-") || a.json["expires_in"].(float64) != 900 {
		t.Fatalf("token answer %s", a.body)
	}
	if _, err := time.Parse(time.RFC3339, a.str(".expires")); err != nil {
		t.Fatalf(".expires %q: %v", a.str(".expires"), err)
	}
	// The protected resource wants both the bearer and the header.
	wantStatus(t, do(t, e, "GET", e.ProtectedPath(), nil, bearer(at)), 400)
	wantStatus(t, do(t, e, "GET", e.ProtectedPath(), nil, withBearer(apiV, at)), 200)
	wantStatus(t, do(t, e, "GET", e.ProtectedPath(), nil, apiV), 401)

	// Rotation: a refresh token works once.
	a = grant(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, apiV)
	wantStatus(t, a, 200)
	at2 := a.str("access_token")
	if a := grant(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, apiV); a.status != 401 || a.str("errorCode") != "InvalidToken" {
		t.Fatalf("reuse: %d %s", a.status, a.body)
	}
	if e.Counts().RefreshReuse != 1 {
		t.Fatalf("counts %+v", e.Counts())
	}

	// Logout: POST, needs the header, 200 {} and the session is gone.
	wantStatus(t, do(t, e, "POST", "/api/oauth2/logout", nil, bearer(at2)), 400)
	a = do(t, e, "POST", "/api/oauth2/logout", nil, withBearer(apiV, at2))
	if a.status != 200 || string(a.body) != "{}" {
		t.Fatalf("logout %d %s", a.status, a.body)
	}
	if e.Valid(at) || e.Valid(at2) || e.Counts().Logouts != 1 {
		t.Fatalf("session survived logout: %+v", e.Counts())
	}
}

func TestVBRRequireAPIVersion(t *testing.T) {
	e := start(t, Options{Product: ProductVBR, RequireAPIVersion: "1.2-rev0"})
	e.AddUser("u", "p")
	pw := url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}
	wantStatus(t, grant(t, e, pw, apiV), 400)
	wantStatus(t, grant(t, e, pw, map[string]string{"x-api-version": "1.2-rev0"}), 200)
}

func TestVBCloudMFA(t *testing.T) {
	for _, tc := range []struct {
		product string
		status  int
	}{{ProductVBAWS, 200}, {ProductVBGCP, 202}} {
		t.Run(tc.product, func(t *testing.T) {
			e := start(t, Options{Product: tc.product})
			e.AddMFAUser("admin", "pw", "123456")
			a := grant(t, e, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}}, apiV)
			wantStatus(t, a, tc.status)
			mt := a.str("mfa_token")
			if mt == "" || a.json["access_token"] != nil {
				t.Fatalf("mfa step %s", a.body)
			}
			a = grant(t, e, url.Values{"grant_type": {"mfa"}, "mfa_token": {mt}, "mfa_code": {"000000"}}, apiV)
			if a.status != 401 || a.str("errorCode") != "AccessDenied" || a.str("details") == "" ||
				!strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("wrong code: %d %s", a.status, a.body)
			}
			a = grant(t, e, url.Values{"grant_type": {"mfa"}, "mfa_token": {mt}, "mfa_code": {"123456"}}, apiV)
			wantStatus(t, a, 200)
			at := a.str("access_token")
			wantStatus(t, do(t, e, "GET", e.ProtectedPath(), nil, withBearer(apiV, at)), 200)
			wantStatus(t, do(t, e, "GET", e.ProtectedPath(), nil, bearer(at)), 400)
			wantStatus(t, do(t, e, "DELETE", e.TokenPath(), nil, withBearer(apiV, at)), 204)
			if e.Valid(at) {
				t.Fatal("token valid after DELETE /api/v1/token")
			}
			e.FailNext(1, 500, 0)
			a = grant(t, e, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}}, apiV)
			if a.status != 500 || !strings.Contains(string(a.body), StackTraceMarker) {
				t.Fatalf("5xx: %d %s", a.status, a.body)
			}
		})
	}
}

func TestVONERevoke(t *testing.T) {
	e := start(t, Options{Product: ProductVONE})
	e.AddUser(`ONESRV\admin`, "pw")
	// grant_type defaults to password.
	a := grant(t, e, url.Values{"username": {`onesrv\admin`}, "password": {"pw"}}, nil)
	wantStatus(t, a, 200)
	if a.str("token_type") != "Bearer" || a.json["expires_in"].(float64) != 899 || a.str("user") != `ONESRV\admin` {
		t.Fatalf("answer %s", a.body)
	}
	at := a.str("access_token")
	if a := grant(t, e, url.Values{"grant_type": {"password"}, "username": {"x"}, "password": {"y"}}, nil); a.status != 400 || a.str("detail") == "" {
		t.Fatalf("wrong password %d %s", a.status, a.body)
	}
	wantStatus(t, do(t, e, "GET", e.ProtectedPath(), nil, bearer(at)), 200)
	wantStatus(t, do(t, e, "POST", "/api/revoke", url.Values{}, bearer(at)), 400)
	wantStatus(t, do(t, e, "POST", "/api/revoke", url.Values{"token": {at}}, nil), 401)
	wantStatus(t, do(t, e, "POST", "/api/revoke", url.Values{"token": {at}}, bearer(at)), 200)
	if e.Valid(at) || e.Counts().Logouts != 1 {
		t.Fatal("revoke did not end the session")
	}
}

func TestVSPCErrorsAndAPIKeys(t *testing.T) {
	e := start(t, Options{Product: ProductVSPC})
	e.AddUser("vspc-admin", "pw")
	e.AddAPIKey("vspc-admin", "vspc-key-123")
	a := grant(t, e, url.Values{"grant_type": {"password"}, "username": {"vspc-admin"}, "password": {"bad"}}, nil)
	if a.status != 400 || a.str("error") != "invalid_grant" || a.str("error_description") == "" {
		t.Fatalf("wrong password %d %s", a.status, a.body)
	}
	wantStatus(t, do(t, e, "GET", e.ProtectedPath(), nil, bearer("vspc-key-123")), 200)
	denied := do(t, e, "GET", e.ProtectedPath(), nil, bearer("vspc-key-999"))
	errs, _ := denied.json["errors"].([]any)
	if denied.status != 401 || len(errs) != 1 || errs[0].(map[string]any)["type"] != "security" {
		t.Fatalf("protected without a live token: %d %s", denied.status, denied.body)
	}
	e.FailNext(1, 500, 0)
	wantStatus(t, grant(t, e, url.Values{"grant_type": {"password"}, "username": {"vspc-admin"}, "password": {"pw"}}, nil), 520)
	e.FailNext(1, http.StatusTooManyRequests, 3*time.Second)
	a = grant(t, e, url.Values{"grant_type": {"password"}, "username": {"vspc-admin"}, "password": {"pw"}}, nil)
	errs, _ = a.json["errors"].([]any)
	if a.status != 429 || a.header.Get("Retry-After") != "" || len(errs) != 1 || errs[0].(map[string]any)["retryAfter"].(float64) != 3 {
		t.Fatalf("throttled: %d %v %s", a.status, a.header, a.body)
	}
	a = grant(t, e, url.Values{"grant_type": {"password"}, "username": {"vspc-admin"}, "password": {"pw"}}, nil)
	wantStatus(t, a, 200)
	at := a.str("access_token")
	// The emergency revocation ends every session of the user.
	uid := userID("vspc-admin")
	wantStatus(t, do(t, e, "DELETE", "/api/v3/users/"+uid+"/tokens", nil, bearer(at)), 200)
	if e.Valid(at) {
		t.Fatal("token valid after user token revocation")
	}
}
