package helper

import (
	"context"
	"encoding/json"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Veeam Backup for Microsoft 365 REST API (helpcenter.veeam.com/docs/vbo365/rest,
// "Authorization for Veeam Backup for Microsoft 365 Administrators", "Log Out",
// "Request Authorization Code"):
//
//   - POST /{version}/token, form; POST /{version}/token/logout and
//     /{version}/token/AuthCode with the Bearer token. The version is part of
//     the path: VB365 8 serves v6, v7 and v8, VB365 7 only v6 and v7, so
//     api_version (default v8) picks the path of every call.
//   - Errors: {message, errorCode, stackTrace}; the stack trace is never shown.
//   - Default port 4443.
const jwtBearerURN = "urn:ietf:params:oauth:grant-type:jwt-bearer"

type vb365 struct{}

// tokenPath is /v8/token, /v7/token or /v6/token, by api_version.
func (vb365) tokenPath(p *config.Profile) string { return "/" + p.VB365APIVersion() + "/token" }

// wrongVersion turns the 404 a server without the profile's API version
// answers into a configuration error that names api_version.
func (v vb365) wrongVersion(s *client, a *answer, err error) error {
	if a == nil || a.status != 404 {
		return err
	}
	hint := `set api_version = "v7" in the profile: VB365 7 has no v8 REST API`
	if s.p.VB365APIVersion() != "v8" {
		hint = `set api_version to a version the server serves ("v8", "v7" or "v6")`
	}
	return exitcode.Wrapf(exitcode.Usage, err, "profile %q: %s answers 404 for %s: check url, or %s",
		s.p.Name, s.p.URL, v.tokenPath(s.p), hint)
}

// antiforgery adds disable_antiforgery_token=true unless the profile keeps the cookie.
func (vb365) antiforgery(s *client, f map[string][]string) {
	if s.p.AntiforgeryDisabled() {
		f["disable_antiforgery_token"] = []string{"true"}
	}
}

func (v vb365) grant(ctx context.Context, s *client) (cache.Entry, error) {
	var f map[string][]string
	switch s.p.Grant {
	case config.GrantPassword:
		var err error
		if f, err = s.passwordForm(ctx, "password"); err != nil {
			return cache.Entry{}, err
		}
	default:
		as, err := s.secret(ctx, secretAssertion)
		if err != nil {
			return cache.Entry{}, err
		}
		gt := jwtBearerURN
		if s.p.Grant == config.GrantOperator {
			gt = "operator"
		}
		f = form("grant_type", gt, "client_id", s.p.ClientID, "assertion", as)
	}
	v.antiforgery(s, f)
	t, a, err := s.tokenCall(ctx, call{method: "POST", path: v.tokenPath(s.p), form: f}, s.p.Grant+" grant")
	if err != nil {
		return cache.Entry{}, v.wrongVersion(s, a, err)
	}
	e, err := s.entry(t)
	if err != nil {
		return e, err
	}
	if !s.p.AntiforgeryDisabled() {
		e.Cookies = mergeCookies("", a.header)
	}
	return e, nil
}

func (v vb365) refresh(ctx context.Context, s *client, old cache.Entry) (cache.Entry, error) {
	f := form("grant_type", "refresh_token", "refresh_token", old.RefreshToken)
	v.antiforgery(s, f)
	t, a, err := s.tokenCall(ctx, call{method: "POST", path: v.tokenPath(s.p), form: f, cookies: old.Cookies}, "refresh token")
	if err != nil {
		return cache.Entry{}, v.wrongVersion(s, a, err)
	}
	e, err := s.entry(t)
	if err != nil {
		return e, err
	}
	e.Cookies = mergeCookies(old.Cookies, a.header)
	return e, nil
}

func (v vb365) logout(ctx context.Context, s *client, e cache.Entry) error {
	a, err := s.do(ctx, call{method: "POST", path: v.tokenPath(s.p) + "/logout", bearer: e.AccessToken, cookies: e.Cookies})
	if err != nil {
		return err
	}
	return v.wrongVersion(s, a, s.noContent(a))
}

func (v vb365) authCode(ctx context.Context, s *client, e cache.Entry) (string, error) {
	a, err := s.do(ctx, call{method: "POST", path: v.tokenPath(s.p) + "/AuthCode", bearer: e.AccessToken, cookies: e.Cookies})
	if err != nil {
		return "", err
	}
	if a.status != 200 {
		return "", v.wrongVersion(s, a, s.statusError(a, "authorization code request"))
	}
	var r struct {
		AuthCode string `json:"authCode"`
	}
	if json.Unmarshal(a.body, &r) != nil || r.AuthCode == "" {
		return "", exitcode.Errorf(exitcode.Unreachable, "profile %q: the server's answer holds no authCode", s.p.Name)
	}
	return r.AuthCode, nil
}
