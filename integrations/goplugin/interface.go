package goplugin

import (
	"context"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// CredentialHelper is what the plugin serves and what a host calls.
type CredentialHelper interface {
	// GetCredential answers an access token for a profile: from the cache,
	// else by the refresh grant, else by the profile's primary grant.
	GetCredential(ctx context.Context, req Request) (*protocol.Credential, error)
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

// Profile describes one configured profile (no secrets).
type Profile struct {
	// Name is the configuration's profile name.
	Name string
	// Product is the Veeam product, e.g. "vbr" or "vb365".
	Product string
	// URL is the server's base URL.
	URL string
	// Username is the identity the profile logs in as.
	Username string
	// Default is true for the profile used when a request names none.
	Default bool
}
