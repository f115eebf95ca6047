package helper

import (
	"context"
	"net/url"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Veeam Backup for Microsoft Azure REST API (helpcenter.veeam.com/docs/vbazure/rest,
// "Request Authorization Tokens", "Logout", "Obtaining Token"):
//
//   - POST /api/oauth2/token, form, grant_type Password, Refresh_token or Mfa
//     (mfa_token + mfa_code); DELETE /api/oauth2/token with the Bearer token
//     logs out (204).
//   - An MFA user's Password step answers an mfa_token instead of tokens;
//     the reference's answer schema lists mfa_enabled too, but only the
//     token is needed (and promised) for the Mfa step.
//   - Errors: problem+json {type, title, status, detail, traceId, errors}.
//   - Older versions take api-version as a query parameter: sent when the
//     profile sets api_version.
const vbAzureTokenPath = "/api/oauth2/token"

type vbAzure struct{}

func (vbAzure) query(p *config.Profile) url.Values {
	if p.APIVersion == "" {
		return nil
	}
	return url.Values{"api-version": {p.APIVersion}}
}

func (v vbAzure) grant(ctx context.Context, s *client) (cache.Entry, error) {
	return s.passwordThenMFA(ctx, call{method: "POST", path: vbAzureTokenPath, query: v.query(s.p)}, "Password", "Mfa")
}

func (v vbAzure) refresh(ctx context.Context, s *client, old cache.Entry) (cache.Entry, error) {
	f := form("grant_type", "Refresh_token", "refresh_token", old.RefreshToken)
	return s.tokenEntry(ctx, call{method: "POST", path: vbAzureTokenPath, query: v.query(s.p), form: f}, "refresh token")
}

func (v vbAzure) logout(ctx context.Context, s *client, e cache.Entry) error {
	return s.logoutCall(ctx, call{method: "DELETE", path: vbAzureTokenPath, query: v.query(s.p), bearer: e.AccessToken})
}
