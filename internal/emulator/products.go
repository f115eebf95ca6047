package emulator

import (
	"maps"
	"net/http"
	"slices"
	"time"
)

// productSpec describes a served product; its handlers and error shape are
// in the product's own file.
type productSpec struct {
	tokenPath, protectedPath string
	accessTTL                time.Duration // default access-token lifetime
	mfa                      bool          // AddMFAUser makes an MFA user
	endpoints                map[string]endpoint
	writeError               func(w http.ResponseWriter, status int, code, msg string)
}

var products map[string]productSpec

// The table is filled in init: the handlers it names reach it again through
// Emulator.writeError, a cycle a package-level initializer may not have.
func init() {
	// vbaws and vbgcp share one token API.
	cloud := map[string]endpoint{
		"/api/v1/token":          {"", (*Emulator).serveCloudToken},
		"/api/v1/system/version": {"", (*Emulator).cloudVersion},
	}
	products = map[string]productSpec{
		ProductVB365: {
			tokenPath: "/v8/token", protectedPath: "/v8/Organizations", accessTTL: time.Hour,
			endpoints: map[string]endpoint{
				"/v8/token":          {http.MethodPost, (*Emulator).vb365Grant},
				"/v8/token/logout":   {http.MethodPost, (*Emulator).vb365Logout},
				"/v8/token/authcode": {http.MethodPost, (*Emulator).vb365AuthCode},
				"/v8/organizations":  {"", (*Emulator).vb365Organizations},
			},
			writeError: writeVB365Error,
		},
		ProductVBAWS: {
			tokenPath: "/api/v1/token", protectedPath: "/api/v1/system/version", accessTTL: time.Hour, mfa: true,
			endpoints:  cloud,
			writeError: writeCloudError("Veeam.Backup.AWS.REST"),
		},
		ProductVBAzure: {
			tokenPath: "/api/oauth2/token", protectedPath: "/api/v1/system/about", accessTTL: time.Hour, mfa: true,
			endpoints: map[string]endpoint{
				"/api/oauth2/token":    {"", (*Emulator).serveAzureToken},
				"/api/v1/system/about": {"", (*Emulator).azureAbout},
			},
			writeError: writeAzureError,
		},
		ProductVBGCP: {
			tokenPath: "/api/v1/token", protectedPath: "/api/v1/system/version", accessTTL: 15 * time.Minute, mfa: true,
			endpoints:  cloud,
			writeError: writeCloudError("Veeam.Backup.GCP.REST"),
		},
		ProductVBR: {
			tokenPath: "/api/oauth2/token", protectedPath: "/api/v1/serverTime", accessTTL: 15 * time.Minute,
			endpoints: map[string]endpoint{
				"/api/oauth2/token":  {http.MethodPost, (*Emulator).vbrGrant},
				"/api/oauth2/logout": {http.MethodPost, (*Emulator).vbrLogout},
				"/api/v1/servertime": {"", (*Emulator).vbrServerTime},
			},
			writeError: writeVBRError,
		},
		ProductVONE: {
			tokenPath: "/api/token", protectedPath: "/api/v2.2/about", accessTTL: 15 * time.Minute,
			endpoints: map[string]endpoint{
				"/api/token":      {http.MethodPost, (*Emulator).voneGrant},
				"/api/revoke":     {http.MethodPost, (*Emulator).voneRevoke},
				"/api/v2.2/about": {"", (*Emulator).voneAbout},
			},
			writeError: writeVONEError,
		},
		ProductVSPC: {
			tokenPath: "/api/v3/token", protectedPath: "/api/v3/about", accessTTL: time.Hour,
			endpoints: map[string]endpoint{
				"/api/v3/token":          {http.MethodPost, (*Emulator).vspcGrant},
				"/api/v3/about":          {http.MethodGet, (*Emulator).vspcAbout},
				"/api/v3/users/*/tokens": {http.MethodDelete, (*Emulator).vspcRevokeUser},
			},
			writeError: writeVSPCError,
		},
	}
}

// Products lists every product the emulator serves, sorted.
func Products() []string {
	return slices.Sorted(maps.Keys(products))
}
