package helper

import (
	"context"

	"golang.org/x/oauth2"
)

// TokenSource returns an oauth2.TokenSource for a profile that shares the
// binary's cache and cross-process lock. Wrap it in oauth2.ReuseTokenSource
// (oauth2.NewClient does) so a process asks the cache only near expiry.
func (h *Helper) TokenSource(ctx context.Context, profile string) oauth2.TokenSource {
	return &profileSource{ctx: ctx, h: h, profile: profile}
}

type profileSource struct {
	ctx     context.Context
	h       *Helper
	profile string
}

func (s *profileSource) Token() (*oauth2.Token, error) {
	r, err := s.h.Get(s.ctx, Request{Profile: s.profile})
	if err != nil {
		return nil, err
	}
	return ResultToken(r), nil
}

// ResultToken converts a Result to an oauth2.Token. The refresh token stays
// in the cache: holders of the access token never need it.
func ResultToken(r *Result) *oauth2.Token {
	t := &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType, Expiry: r.ExpiresAt}
	return t.WithExtra(map[string]any{"profile": r.Profile.Name, "source": r.Source})
}
