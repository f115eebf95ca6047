package helper

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// product is one Veeam product's token flow. Each lives in its own file;
// its configuration rules (grants, default port, required keys) are in
// package config.
type product interface {
	// grant runs the profile's primary grant.
	grant(ctx context.Context, s *client) (cache.Entry, error)
	// refresh runs the refresh grant. An error with exitcode.Rejected means the
	// refresh token is dead and the primary grant should run instead.
	refresh(ctx context.Context, s *client, e cache.Entry) (cache.Entry, error)
	// logout ends the server session of e.
	logout(ctx context.Context, s *client, e cache.Entry) error
}

// authCoder is a product with one-time authorization codes (VB365).
type authCoder interface {
	authCode(ctx context.Context, s *client, e cache.Entry) (string, error)
}

// products maps profile.product to its flow.
var products = map[string]product{
	"vb365":   vb365{},
	"vbaws":   vbCloud{},
	"vbazure": vbAzure{},
	"vbgcp":   vbCloud{},
	"vbr":     vbr{},
	"vone":    vone{},
	"vspc":    vspc{},
}

// productOf is the product of a validated profile (config.Parse accepts
// only the products registered here: TestEveryProductHasAFlow).
func productOf(p *config.Profile) product { return products[p.Product] }

// send is do, or doVersioned for a call that carries x-api-version.
func (s *client) send(ctx context.Context, c call) (*answer, error) {
	if c.versioned {
		return s.doVersioned(ctx, c)
	}
	return s.do(ctx, c)
}

// tokenCall posts a token-endpoint form and decodes the token answer.
// what names the grant in errors ("password", "refresh token", …).
func (s *client) tokenCall(ctx context.Context, c call, what string) (*tokenAnswer, *answer, error) {
	a, err := s.send(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.decodeToken(a, what)
	if err != nil {
		return nil, a, err
	}
	return t, a, nil
}

// tokenEntry is tokenCall for the products that keep nothing of the answer
// but its tokens.
func (s *client) tokenEntry(ctx context.Context, c call, what string) (cache.Entry, error) {
	t, _, err := s.tokenCall(ctx, c, what)
	if err != nil {
		return cache.Entry{}, err
	}
	return s.entry(t)
}

// passwordForm is the form of a password grant with the profile's username
// and password; grantType is the product's spelling of "password".
func (s *client) passwordForm(ctx context.Context, grantType string) (url.Values, error) {
	pw, err := s.secret(ctx, secretPassword)
	if err != nil {
		return nil, err
	}
	return form("grant_type", grantType, "username", s.p.Username, "password", pw), nil
}

// passwordThenMFA runs the password grant of the products with MFA (vbaws,
// vbgcp, vbazure) on the token endpoint c names. When the server answers
// an mfa_token instead of an access token, the MFA step follows with a code
// from the request, mfa_code_command or a prompt. The grant types are the
// product's spellings.
func (s *client) passwordThenMFA(ctx context.Context, c call, passwordGrant, mfaGrant string) (cache.Entry, error) {
	f, err := s.passwordForm(ctx, passwordGrant)
	if err != nil {
		return cache.Entry{}, err
	}
	c.form = f
	t, _, err := s.tokenCall(ctx, c, "password")
	if err != nil {
		return cache.Entry{}, err
	}
	if t.AccessToken == "" && t.MFAToken != "" {
		code, err := s.secret(ctx, secretMFACode)
		if err != nil {
			return cache.Entry{}, err
		}
		c.form = form("grant_type", mfaGrant, "mfa_token", t.MFAToken, "mfa_code", code)
		if t, _, err = s.tokenCall(ctx, c, "MFA code"); err != nil {
			return cache.Entry{}, err
		}
	}
	return s.entry(t)
}

// logoutCall sends a logout call and checks its answer.
func (s *client) logoutCall(ctx context.Context, c call) error {
	a, err := s.send(ctx, c)
	if err != nil {
		return err
	}
	return s.noContent(a)
}

// entry converts a token answer to a cache entry, refusing answers without
// an access token or an expiry.
func (s *client) entry(t *tokenAnswer) (cache.Entry, error) {
	now := s.h.now()
	if t.AccessToken == "" {
		return cache.Entry{}, exitcode.Errorf(exitcode.Unreachable, "profile %q: the server's answer holds no access_token", s.p.Name)
	}
	if !usableToken(t.AccessToken) {
		// Not cached: the next call asks the server again.
		return cache.Entry{}, exitcode.Errorf(exitcode.Unreachable, "profile %q: the server answered an unusable token (control characters, spaces or non-ASCII in access_token): not cached; the next call asks again", s.p.Name)
	}
	exp, err := t.expiry(now)
	if err != nil {
		return cache.Entry{}, exitcode.Errorf(exitcode.Unreachable, "profile %q: the server's token answer has %v", s.p.Name, err)
	}
	tt := t.TokenType
	if tt == "" || strings.EqualFold(tt, "bearer") {
		tt = "Bearer"
	}
	return cache.Entry{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: tt, ExpiresAt: exp.UTC(), IssuedAt: now.UTC()}, nil
}

// usableToken reports whether a bearer token survives every output format
// (a header line, git's key=value lines, shell quoting, a curl config, JSON)
// unchanged: printable ASCII without spaces, as RFC 6750's b64token and
// every Veeam server's tokens are.
func usableToken(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return false
		}
	}
	return true
}

// mergeCookies updates a "name=value; …" cookie string with an answer's
// Set-Cookie headers (a rotated cookie replaces the old value).
func mergeCookies(old string, h http.Header) string {
	set := (&http.Response{Header: h}).Cookies()
	if len(set) == 0 {
		return old
	}
	var order []string
	vals := map[string]string{}
	for _, kv := range strings.Split(old, "; ") {
		if name, v, ok := strings.Cut(kv, "="); ok && name != "" {
			if _, dup := vals[name]; !dup {
				order = append(order, name)
			}
			vals[name] = v
		}
	}
	for _, c := range set {
		if _, dup := vals[c.Name]; !dup {
			order = append(order, c.Name)
		}
		vals[c.Name] = c.Value
	}
	parts := make([]string, 0, len(order))
	for _, n := range order {
		parts = append(parts, n+"="+vals[n])
	}
	return strings.Join(parts, "; ")
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// noContent checks a logout answer.
func (s *client) noContent(a *answer) error {
	if a.status >= 200 && a.status < 300 {
		return nil
	}
	return s.statusError(a, "logout")
}
