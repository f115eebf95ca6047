package goplugin

import (
	"context"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/protocol"
	"golang.org/x/oauth2"
)

// TokenSource is an oauth2.TokenSource backed by the plugin: every Token
// call asks ch (normally answered from the helper's cache). oauth2.NewClient
// wraps it in oauth2.ReuseTokenSource, so requests reuse a token until it is
// near expiry. The refresh token never leaves the plugin.
func TokenSource(ctx context.Context, ch CredentialHelper, profile string, minValid time.Duration) oauth2.TokenSource {
	return &pluginSource{ctx: ctx, ch: ch, req: Request{Profile: profile, MinValid: minValid}}
}

// TokenSource is TokenSource(ctx, c, profile, 0).
func (c *Client) TokenSource(ctx context.Context, profile string) oauth2.TokenSource {
	return TokenSource(ctx, c, profile, 0)
}

type pluginSource struct {
	ctx context.Context
	ch  CredentialHelper
	req Request
}

func (s *pluginSource) Token() (*oauth2.Token, error) {
	c, err := s.ch.GetCredential(s.ctx, s.req)
	if err != nil {
		return nil, err
	}
	return CredentialToken(c), nil
}

// CredentialToken converts a Credential to an oauth2.Token, with "profile"
// and "source" as extras.
func CredentialToken(c *protocol.Credential) *oauth2.Token {
	tt := c.TokenType
	if tt == "" {
		tt = "Bearer"
	}
	t := &oauth2.Token{AccessToken: c.AccessToken, TokenType: tt, Expiry: c.ExpiresAt}
	return t.WithExtra(map[string]any{"profile": c.Profile, "source": c.Source})
}
