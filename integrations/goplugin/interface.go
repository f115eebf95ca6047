package goplugin

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CredentialHelper is what the plugin serves and what a host calls.
type CredentialHelper interface {
	// GetCredential answers an access token for a profile: from the cache,
	// else by the refresh grant, else by the profile's primary grant.
	GetCredential(ctx context.Context, req Request) (*Credential, error)
	// Invalidate drops the profile's cached access token; its refresh
	// token is kept, so the next GetCredential runs the refresh grant.
	Invalidate(ctx context.Context, profile string) error
	// ListProfiles lists the configured profiles, never a secret.
	ListProfiles(ctx context.Context) ([]Profile, error)
}

// Request asks for a credential.
type Request struct {
	// Profile name; "" means default_profile, else the only profile.
	Profile string
	// MinValid: the token must stay valid at least this long (whole seconds on the wire).
	MinValid time.Duration
	// ForceRefresh renews even when the cached token is good.
	ForceRefresh bool
}

// Credential is a usable access token for a profile.
type Credential struct {
	Profile     string
	Product     string
	URL         string
	Username    string
	TokenType   string // "Bearer"
	AccessToken string
	ExpiresAt   time.Time
	Source      string // "cache", "refresh" or "grant"
}

// String describes the credential without its token, so that printing or
// logging one by mistake leaks nothing.
func (c Credential) String() string {
	return fmt.Sprintf("credential{profile=%q product=%s url=%s user=%q expires_at=%s source=%s token=<redacted>}",
		c.Profile, c.Product, c.URL, c.Username, c.ExpiresAt.UTC().Format(time.RFC3339), c.Source)
}

// GoString is String: %#v does not print the token either.
func (c Credential) GoString() string { return c.String() }

// Profile describes one configured profile (no secrets).
type Profile struct {
	Name     string
	Product  string
	URL      string
	Username string
	// Default is true for the profile used when a request names none.
	Default bool
}

// Error is a failure the helper reported: the same one-line message and
// exit code the command line gives for it. Failures of the plugin
// connection itself (the process died, the host's context ended) are
// other errors.
type Error struct {
	// ExitCode: 1 unexpected, 2 usage or configuration, 3 credentials
	// rejected, 4 server unreachable, 5 interaction needed, 6 cache unavailable.
	ExitCode int
	// Code is the JSON protocol error code, e.g. "invalid_credentials".
	Code string
	// Message is one line and never holds a secret.
	Message string
}

func (e *Error) Error() string { return e.Message }

// ExitCode is the helper's exit code for err: 0 for nil, the code of an
// *Error, else 1.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.ExitCode
	}
	return 1
}
