package helper

import (
	"context"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// Veeam Backup & Replication REST API (helpcenter.veeam.com/docs/backup/vbr_rest,
// "Requesting Authorization", "Using Refresh Token", "Performing Logout",
// "Versioning"):
//
//   - POST /api/oauth2/token, form, grant_type password (username, password)
//     or refresh_token (refresh_token); lower-case grant names. A refresh token
//     is good for one use: every refresh answers a new pair.
//   - Every call, the token call included, carries x-api-version:
//     <version>-<revision>. 1.1-rev0 is the first revision of 12.0 and is
//     still supported by 12.x and 13; set api_version for a newer one.
//   - A revision the server does not support is refused with 400 and
//     {"errorCode": …, "message": "Unsupported RESTAPI version. The following
//     versions are supported: v1.0-rev1, …"}.
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

// doVersioned is do for the products that send x-api-version on every call
// (vbr, vbaws, vbgcp). When the profile leaves api_version out and the
// server refuses the default revision as unsupported, the call is sent once
// more with the newest revision the server names, with a warning naming
// the api_version to set; the session keeps that revision for its other
// calls. A refusal of a revision the profile names is not retried: it ends
// in statusError's configuration error (exit 2) naming api_version.
func (s *client) doVersioned(ctx context.Context, c call) (*answer, error) {
	if s.apiVersion == "" {
		s.apiVersion = s.p.APIVersion
	}
	c.header = map[string]string{headerAPIVersion: s.apiVersion}
	a, err := s.do(ctx, c)
	if err != nil || a.status != 400 || !s.p.APIVersionDefaulted() || s.apiVersion != s.p.APIVersion {
		return a, err
	}
	named, unsupported := unsupportedVersion(a.body)
	next := newestRevision(named, s.apiVersion)
	if !unsupported || next == "" {
		return a, nil
	}
	s.h.warnf("profile %q: the server does not support x-api-version %s, retrying with %s, which it names: set api_version = %q in the profile",
		s.p.Name, s.apiVersion, next, next)
	s.apiVersion = next
	c.header = map[string]string{headerAPIVersion: next}
	return s.do(ctx, c)
}

func (vbr) grant(ctx context.Context, s *client) (cache.Entry, error) {
	f, err := s.passwordForm(ctx, "password")
	if err != nil {
		return cache.Entry{}, err
	}
	return s.tokenEntry(ctx, call{method: "POST", path: vbrTokenPath, form: f, versioned: true}, "password")
}

func (vbr) refresh(ctx context.Context, s *client, old cache.Entry) (cache.Entry, error) {
	f := form("grant_type", "refresh_token", "refresh_token", old.RefreshToken)
	return s.tokenEntry(ctx, call{method: "POST", path: vbrTokenPath, form: f, versioned: true}, "refresh token")
}

func (vbr) logout(ctx context.Context, s *client, e cache.Entry) error {
	return s.logoutCall(ctx, call{method: "POST", path: vbrLogoutPath, bearer: e.AccessToken, versioned: true})
}
