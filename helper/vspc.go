package helper

import (
	"context"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Veeam Service Provider Console REST API v3 (helpcenter.veeam.com/docs/vac/rest:
// "OAuth 2.0 Authentication", "API Key-Based Authorization", "Errors",
// "Throttling"):
//
//   - POST /api/v3/token, form, grant_type password or refresh_token; access
//     tokens live 1 hour.
//   - API keys ("simple keys", or POST /users/{uid}/logins/apikey) are sent as
//     the Bearer token as they are, and stay valid until the user identity is
//     disabled: grant = "api-key".
//   - There is no per-session logout: DELETE /users/{userId}/tokens revokes
//     every token of the user everywhere and is documented as an emergency
//     measure, so `logout` here only deletes the cached tokens.
//   - Errors: {"errors":[{"message","type","code"}]}; server errors come as
//     HTTP 520; throttling is 429 with errors[0].retryAfter in the body.
//   - Optional X-Client-Version header: sent with api_version when set.
//   - Default port 1280.
const (
	vspcTokenPath = "/api/v3/token"
)

type vspc struct{}

func (vspc) header(p *config.Profile) map[string]string {
	if p.APIVersion == "" {
		return nil
	}
	return map[string]string{"X-Client-Version": p.APIVersion}
}

func (v vspc) token(ctx context.Context, s *client, f map[string][]string, what string) (cache.Entry, error) {
	return s.tokenEntry(ctx, call{method: "POST", path: vspcTokenPath, form: f, header: v.header(s.p)}, what)
}

// grant runs the password grant, or answers the API key. An API key has no
// expiry: the entry's ExpiresAt stays zero, so the answer carries no
// expires_at and every request reads the key from its source again (a
// rotated key takes effect at once); nothing is sent to the server.
func (v vspc) grant(ctx context.Context, s *client) (cache.Entry, error) {
	if s.p.Grant == config.GrantAPIKey {
		key, err := s.secret(ctx, secretAPIKey)
		if err != nil {
			return cache.Entry{}, err
		}
		now := s.h.now().UTC()
		return cache.Entry{AccessToken: key, TokenType: "Bearer", IssuedAt: now}, nil
	}
	f, err := s.passwordForm(ctx, "password")
	if err != nil {
		return cache.Entry{}, err
	}
	return v.token(ctx, s, f, "password")
}

func (v vspc) refresh(ctx context.Context, s *client, old cache.Entry) (cache.Entry, error) {
	return v.token(ctx, s, form("grant_type", "refresh_token", "refresh_token", old.RefreshToken), "refresh token")
}

func (vspc) logout(_ context.Context, s *client, _ cache.Entry) error {
	s.h.debugf("profile %q: vspc has no per-session logout; the access token expires by itself", s.p.Name)
	return nil
}
