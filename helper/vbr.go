package helper

import (
	"context"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// Veeam Backup & Replication REST API (helpcenter.veeam.com/docs/backup/vbr_rest,
// "Requesting Authorization", "Using Refresh Token", "Performing Logout"):
//
//   - POST /api/oauth2/token, form, grant_type password (username, password)
//     or refresh_token (refresh_token); lower-case grant names. A refresh token
//     is good for one use: every refresh answers a new pair.
//   - Every call, the token call included, carries x-api-version:
//     <version>-<revision> (1.1-rev0 is the first revision of 12.0 and is
//     still supported by 12.x and 13; set api_version for a newer one).
//   - POST /api/oauth2/logout with the Bearer token: 200 and {}; access and
//     refresh token are dead afterwards.
//   - Errors: {"errorCode": "AccessDenied", "message": "…", "resourceId": …}.
//   - Default port 9419. Access tokens lived 15 minutes up to 12.2 and 60
//     minutes since; expires_in is what counts.
const (
	vbrTokenPath     = "/api/oauth2/token"
	vbrLogoutPath    = "/api/oauth2/logout"
	headerAPIVersion = "x-api-version"
)

type vbr struct{}

func init() { register("vbr", vbr{}) }

// apiVersionHeader is the x-api-version header every call of the
// header-versioned products (vbr, vbaws, vbgcp) carries.
func apiVersionHeader(p *Profile) map[string]string {
	return map[string]string{headerAPIVersion: p.APIVersion}
}

func (vbr) grant(ctx context.Context, s *session) (cache.Entry, error) {
	pw, err := s.secret(ctx, secretPassword)
	if err != nil {
		return cache.Entry{}, err
	}
	f := form("grant_type", "password", "username", s.p.Username, "password", pw)
	t, _, err := s.tokenCall(ctx, call{method: "POST", path: vbrTokenPath, form: f, header: apiVersionHeader(s.p)}, "password")
	if err != nil {
		return cache.Entry{}, err
	}
	return s.entry(t)
}

func (vbr) refresh(ctx context.Context, s *session, old cache.Entry) (cache.Entry, error) {
	f := form("grant_type", "refresh_token", "refresh_token", old.RefreshToken)
	t, _, err := s.tokenCall(ctx, call{method: "POST", path: vbrTokenPath, form: f, header: apiVersionHeader(s.p)}, "refresh token")
	if err != nil {
		return cache.Entry{}, err
	}
	return s.entry(t)
}

func (vbr) logout(ctx context.Context, s *session, e cache.Entry) error {
	a, err := s.do(ctx, call{method: "POST", path: vbrLogoutPath, bearer: e.AccessToken, header: apiVersionHeader(s.p)})
	if err != nil {
		return err
	}
	return s.noContent(a)
}
