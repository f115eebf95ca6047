package helper

import (
	"context"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// Veeam Backup for AWS and Veeam Backup for Google Cloud share one token API
// (helpcenter.veeam.com/docs/vbaws/rest and /docs/vbgc/rest, "Requesting
// Authorization"; OpenAPI "Token"):
//
//   - POST /api/v1/token, form, grant_type password | refresh_token | mfa |
//     authorization_code, lower case. With MFA on, the password step answers
//     an mfa_token and no access token (AWS: 200 with mfa_enabled; Google
//     Cloud: 202 Accepted); grant_type=mfa with mfa_token and mfa_code then
//     answers the pair. A refresh token is good for one use.
//   - x-api-version: <version>-<revision> on every call ("Versioning": each
//     release accepts its own and the previous few revisions; the default
//     and the retry on an unsupported revision are those of vbr.go).
//   - DELETE /api/v1/token with the Bearer token: 204, the session ends.
//   - Errors: problem+json {type, title, status, errorCode, details, instance, data}.
//   - Lifetimes (AWS: 1 h access / 2 h refresh; Google Cloud 15 min / 2 weeks)
//     are appliance settings: expires_in is what counts.
//   - Default ports: 11005 (AWS) and 13140 (Google Cloud), in package config.
const vbCloudTokenPath = "/api/v1/token"

// The default x-api-version revisions are in package config.
type vbCloud struct{}

func (vbCloud) grant(ctx context.Context, s *client) (cache.Entry, error) {
	return s.passwordThenMFA(ctx, call{method: "POST", path: vbCloudTokenPath, versioned: true}, "password", "mfa")
}

func (vbCloud) refresh(ctx context.Context, s *client, old cache.Entry) (cache.Entry, error) {
	f := form("grant_type", "refresh_token", "refresh_token", old.RefreshToken)
	return s.tokenEntry(ctx, call{method: "POST", path: vbCloudTokenPath, form: f, versioned: true}, "refresh token")
}

func (vbCloud) logout(ctx context.Context, s *client, e cache.Entry) error {
	return s.logoutCall(ctx, call{method: "DELETE", path: vbCloudTokenPath, bearer: e.AccessToken, versioned: true})
}
