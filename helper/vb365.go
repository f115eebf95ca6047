package helper

import (
	"context"
	"encoding/json"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// Veeam Backup for Microsoft 365 REST API v8 (helpcenter.veeam.com/docs/vbo365/rest,
// "Authorization"; reference tag "Auth"): /v8/token, /v8/token/logout,
// /v8/token/AuthCode; errors {message, errorCode, stackTrace}.
const (
	vb365TokenPath = "/v8/token"
	jwtBearerURN   = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

type vb365 struct{}

func init() { register("vb365", vb365{}) }

// antiforgery adds disable_antiforgery_token=true unless the profile keeps the cookie.
func (vb365) antiforgery(s *session, f map[string][]string) {
	if s.p.AntiforgeryDisabled() {
		f["disable_antiforgery_token"] = []string{"true"}
	}
}

func (v vb365) grant(ctx context.Context, s *session) (cache.Entry, error) {
	var f map[string][]string
	switch s.p.Grant {
	case grantPassword:
		pw, err := s.secret(ctx, secretPassword)
		if err != nil {
			return cache.Entry{}, err
		}
		f = form("grant_type", "password", "username", s.p.Username, "password", pw)
	default:
		as, err := s.secret(ctx, secretAssertion)
		if err != nil {
			return cache.Entry{}, err
		}
		gt := jwtBearerURN
		if s.p.Grant == grantOperator {
			gt = "operator"
		}
		f = form("grant_type", gt, "client_id", s.p.ClientID, "assertion", as)
	}
	v.antiforgery(s, f)
	t, a, err := s.tokenCall(ctx, call{method: "POST", path: vb365TokenPath, form: f}, s.p.Grant+" grant")
	if err != nil {
		return cache.Entry{}, err
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

func (v vb365) refresh(ctx context.Context, s *session, old cache.Entry) (cache.Entry, error) {
	f := form("grant_type", "refresh_token", "refresh_token", old.RefreshToken)
	v.antiforgery(s, f)
	t, a, err := s.tokenCall(ctx, call{method: "POST", path: vb365TokenPath, form: f, cookies: old.Cookies}, "refresh token")
	if err != nil {
		return cache.Entry{}, err
	}
	e, err := s.entry(t)
	if err != nil {
		return e, err
	}
	e.Cookies = mergeCookies(old.Cookies, a.header)
	return e, nil
}

func (vb365) logout(ctx context.Context, s *session, e cache.Entry) error {
	a, err := s.do(ctx, call{method: "POST", path: vb365TokenPath + "/logout", bearer: e.AccessToken, cookies: e.Cookies})
	if err != nil {
		return err
	}
	return s.noContent(a)
}

func (vb365) authCode(ctx context.Context, s *session, e cache.Entry) (string, error) {
	a, err := s.do(ctx, call{method: "POST", path: vb365TokenPath + "/AuthCode", bearer: e.AccessToken, cookies: e.Cookies})
	if err != nil {
		return "", err
	}
	if a.status != 200 {
		return "", s.statusError(a, "authorization code request")
	}
	var r struct {
		AuthCode string `json:"authCode"`
	}
	if json.Unmarshal(a.body, &r) != nil || r.AuthCode == "" {
		return "", errorf(ExitUnreachable, "profile %q: the server's answer holds no authCode", s.p.Name)
	}
	return r.AuthCode, nil
}
