package helper

import (
	"context"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// Veeam ONE REST API (helpcenter.veeam.com/docs/one/rest, "Authorization and
// Security"; reference tag "Authentication"):
//
//   - POST /api/token, form, grant_type password (username, password) or
//     refresh_token; answers {access_token, refresh_token, token_type:
//     "Bearer", expires_in: 899, user, user_role}. Access tokens live about
//     15 minutes, so refresh_before matters here more than anywhere.
//   - Logout: POST /api/revoke with the Bearer token and form token=<access
//     token>: 200.
//   - No version header: the API version is part of resource paths
//     (/api/v2.2/…), which the helper never calls.
//   - Errors: problem+json {type, title, status, detail, instance}; the
//     reference documents 400 for a rejected grant.
//   - Default port 1239.
const (
	voneTokenPath  = "/api/token"
	voneRevokePath = "/api/revoke"
)

type vone struct{}

func (vone) grant(ctx context.Context, s *client) (cache.Entry, error) {
	f, err := s.passwordForm(ctx, "password")
	if err != nil {
		return cache.Entry{}, err
	}
	return s.tokenEntry(ctx, call{method: "POST", path: voneTokenPath, form: f}, "password")
}

func (vone) refresh(ctx context.Context, s *client, old cache.Entry) (cache.Entry, error) {
	f := form("grant_type", "refresh_token", "refresh_token", old.RefreshToken)
	return s.tokenEntry(ctx, call{method: "POST", path: voneTokenPath, form: f}, "refresh token")
}

func (vone) logout(ctx context.Context, s *client, e cache.Entry) error {
	return s.logoutCall(ctx, call{method: "POST", path: voneRevokePath, form: form("token", e.AccessToken), bearer: e.AccessToken})
}
