package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A vb365 emulator serves one REST API version: the paths of the others
// answer 404 in the VB365 error shape, as a server of that version does.
func TestVB365ServesOneVersion(t *testing.T) {
	for _, v := range []string{"v6", "v7", "v8"} {
		e := start(t, Options{Product: ProductVB365, APIVersion: v})
		e.AddUser("admin", "pw")
		if e.TokenPath() != "/"+v+"/token" || e.ProtectedPath() != "/"+v+"/Organizations" {
			t.Fatalf("%s paths %s %s", v, e.TokenPath(), e.ProtectedPath())
		}
		for _, other := range []string{"v6", "v7", "v8"} {
			a := do(t, e, http.MethodPost, "/"+other+"/token", vb365Password("admin", "pw", true), nil)
			if other != v {
				wantVB365Error(t, a, 404, "NotFound")
				continue
			}
			wantStatus(t, a, 200)
			at := a.str("access_token")
			wantStatus(t, do(t, e, http.MethodGet, e.ProtectedPath(), nil, bearer(at)), 200)
			wantStatus(t, do(t, e, http.MethodPost, "/"+v+"/token/AuthCode", nil, bearer(at)), 200)
			wantStatus(t, do(t, e, http.MethodPost, "/"+v+"/token/logout", nil, bearer(at)), 204)
		}
		if n := e.Counts(); n.TokenCalls != 1 || n.Logouts != 1 || n.AuthCodes != 1 {
			t.Errorf("%s counts %+v", v, n)
		}
	}
	if _, err := New(Options{Product: ProductVB365, APIVersion: "v9"}); err == nil || !strings.Contains(err.Error(), "v6, v7 or v8") {
		t.Errorf("APIVersion v9: %v", err)
	}
}

// An appliance refuses a revision it does not support with 400 in its own
// error shape, naming the revisions it supports; logout and the protected
// resource check the header the same way.
func TestUnsupportedRevision(t *testing.T) {
	for _, product := range []string{ProductVBR, ProductVBAWS, ProductVBGCP} {
		e := start(t, Options{Product: product, APIVersions: []string{"1.1-rev0", "1.2-rev1"}})
		e.AddUser("u", "p")
		pw := url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}
		a := grant(t, e, pw, map[string]string{"x-api-version": "1.3-rev0"})
		text := a.str("message") + a.str("details")
		if a.status != 400 || a.str("errorCode") != "NotImplemented" ||
			text != "Unsupported RESTAPI version. The following versions are supported: v1.1-rev0, v1.2-rev1." {
			t.Fatalf("%s: %d %s", product, a.status, a.body)
		}
		if product != ProductVBR && !strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: content type %s", product, a.header.Get("Content-Type"))
		}
		ok := map[string]string{"x-api-version": "1.2-rev1"}
		a = grant(t, e, pw, ok)
		wantStatus(t, a, 200)
		at := a.str("access_token")
		wantStatus(t, do(t, e, http.MethodGet, e.ProtectedPath(), nil, withBearer(map[string]string{"x-api-version": "1.0-rev2"}, at)), 400)
		wantStatus(t, do(t, e, http.MethodGet, e.ProtectedPath(), nil, withBearer(ok, at)), 200)
	}
}

// VB for Azure with MFAFlagOmitted answers the password step of an MFA
// user with the mfa_token alone.
func TestVBAzureMFAFlagOmitted(t *testing.T) {
	e := start(t, Options{Product: ProductVBAzure, MFAFlagOmitted: true})
	e.AddMFAUser("mfa-user", "pw", "123456")
	a := grant(t, e, url.Values{"grant_type": {"Password"}, "username": {"mfa-user"}, "password": {"pw"}}, nil)
	wantStatus(t, a, 200)
	if _, present := a.json["mfa_enabled"]; present || !strings.HasPrefix(a.str("mfa_token"), "vbazure-mfa-") || a.json["access_token"] != nil {
		t.Fatalf("password step %s", a.body)
	}
	a = grant(t, e, url.Values{"grant_type": {"Mfa"}, "mfa_token": {a.str("mfa_token")}, "mfa_code": {"123456"}}, nil)
	if a.status != 200 || !e.Valid(a.str("access_token")) {
		t.Fatalf("mfa step %d %s", a.status, a.body)
	}
}

// VSPC's token endpoint refuses grants the OAuth 2.0 way.
func TestVSPCOAuthErrors(t *testing.T) {
	e := start(t, Options{Product: ProductVSPC})
	e.AddUser("admin", "pw")
	for _, tc := range []struct {
		form url.Values
		code string
	}{
		{url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"bad"}}, "invalid_grant"},
		{url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"vspc-rt-unknown"}}, "invalid_grant"},
		{url.Values{"grant_type": {"password"}, "username": {"admin"}}, "invalid_request"},
		{url.Values{"grant_type": {"client_credentials"}}, "unsupported_grant_type"},
	} {
		a := grant(t, e, tc.form, nil)
		if a.status != 400 || a.str("error") != tc.code || a.str("error_description") == "" || len(a.json) != 2 {
			t.Errorf("%v: %d %s", tc.form, a.status, a.body)
		}
	}
}
