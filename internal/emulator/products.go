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
	serve                    func(e *Emulator, w http.ResponseWriter, r *http.Request, path string)
	writeError               func(w http.ResponseWriter, status int, code, msg string)
}

var products map[string]productSpec

// The table is filled in init: the handlers it names reach it again through
// Emulator.writeError, a cycle a package-level initializer may not have.
func init() {
	products = map[string]productSpec{
		ProductVB365: {
			tokenPath: "/v8/token", protectedPath: "/v8/Organizations", accessTTL: time.Hour,
			serve: (*Emulator).serveVB365, writeError: writeVB365Error,
		},
		ProductVBAWS: {
			tokenPath: "/api/v1/token", protectedPath: "/api/v1/system/version", accessTTL: time.Hour, mfa: true,
			serve: (*Emulator).serveVBCloud, writeError: writeCloudError("Veeam.Backup.AWS.REST"),
		},
		ProductVBAzure: {
			tokenPath: "/api/oauth2/token", protectedPath: "/api/v1/system/about", accessTTL: time.Hour, mfa: true,
			serve: (*Emulator).serveVBAzure, writeError: writeAzureError,
		},
		ProductVBGCP: {
			tokenPath: "/api/v1/token", protectedPath: "/api/v1/system/version", accessTTL: 15 * time.Minute, mfa: true,
			serve: (*Emulator).serveVBCloud, writeError: writeCloudError("Veeam.Backup.GCP.REST"),
		},
		ProductVBR: {
			tokenPath: "/api/oauth2/token", protectedPath: "/api/v1/serverTime", accessTTL: 15 * time.Minute,
			serve: (*Emulator).serveVBR, writeError: writeVBRError,
		},
		ProductVONE: {
			tokenPath: "/api/token", protectedPath: "/api/v2.2/about", accessTTL: 15 * time.Minute,
			serve: (*Emulator).serveVONE, writeError: writeVONEError,
		},
		ProductVSPC: {
			tokenPath: "/api/v3/token", protectedPath: "/api/v3/about", accessTTL: time.Hour,
			serve: (*Emulator).serveVSPC, writeError: writeVSPCError,
		},
	}
}

// Products lists every product the emulator serves, sorted.
func Products() []string {
	return slices.Sorted(maps.Keys(products))
}
