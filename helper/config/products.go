package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Grant names of profile.grant.
const (
	GrantPassword  = "password"
	GrantJWTBearer = "jwt-bearer" // VB365
	GrantOperator  = "operator"   // VB365: client_id userId.tenantId
	GrantAPIKey    = "api-key"    // VSPC: a static key used as the bearer token
)

// rules is what the configuration knows of a product: its grants, its
// documented default port, and the checks and defaults of its profile keys.
// They live here, apart from the token flows (package helper, one file per
// product), because the cache-hit front program reads the configuration
// exactly as the engine does without linking any HTTP code.
type rules struct {
	grants      []string // the first is the default
	defaultPort string   // put into a url that names no port
	validate    func(p *Profile) error
	// static: the profile's token is a key read from its source on every
	// call, never cached (VSPC API keys).
	static func(p *Profile) bool
}

// VB365APIVersions are the VB365 REST API versions a profile may name; the
// first is the default. A 7.x server serves v6 and v7, 8.x serves v6, v7
// and v8 (REST API reference, "Versioning").
var VB365APIVersions = []string{"v8", "v7", "v6"}

var products = map[string]rules{
	"vb365": {
		grants:      []string{GrantPassword, GrantJWTBearer, GrantOperator},
		defaultPort: "4443",
		validate: func(p *Profile) error {
			if p.APIVersion != "" && !slices.Contains(VB365APIVersions, p.APIVersion) {
				return fmt.Errorf("api_version %q is not a VB365 REST API version: use \"v8\" (the default, VB365 8), \"v7\" (VB365 7 and 8) or \"v6\"", p.APIVersion)
			}
			switch p.Grant {
			case GrantPassword:
				if p.Username == "" {
					return errors.New("username is required for the password grant")
				}
			case GrantJWTBearer, GrantOperator:
				if p.ClientID == "" {
					return errors.New("client_id is required for the " + p.Grant + " grant (operator: userId.tenantId)")
				}
			}
			return nil
		},
	},
	"vbazure": {
		grants:   []string{GrantPassword},
		validate: needUsername("username is required"),
	},
	"vbr": {
		grants:      []string{GrantPassword},
		defaultPort: "9419",
		validate:    withAPIVersion(needUsername(`username is required (e.g. 'CORP\backup-operator')`), defaultAPIVersions["vbr"]),
	},
	"vbaws": {
		grants:      []string{GrantPassword},
		defaultPort: "11005",
		validate:    withAPIVersion(needUsername("username is required"), defaultAPIVersions["vbaws"]),
	},
	"vbgcp": {
		grants:      []string{GrantPassword},
		defaultPort: "13140",
		validate:    withAPIVersion(needUsername("username is required"), defaultAPIVersions["vbgcp"]),
	},
	"vone": {
		grants:      []string{GrantPassword},
		defaultPort: "1239",
		validate: func(p *Profile) error {
			if p.Username == "" {
				return errors.New(`username is required (e.g. 'ONESRV\administrator')`)
			}
			if p.APIVersion != "" {
				return errors.New("api_version is not used by vone (the API version is part of resource paths, not of the token call): remove it")
			}
			return nil
		},
	},
	"vspc": {
		grants:      []string{GrantPassword, GrantAPIKey},
		defaultPort: "1280",
		validate: func(p *Profile) error {
			switch p.Grant {
			case GrantPassword:
				if p.Username == "" {
					return errors.New(`username is required for the password grant (or use grant = "api-key")`)
				}
			case GrantAPIKey:
				if p.PasswordEnv != "" || p.PasswordFile != "" || len(p.PasswordCommand) > 0 {
					return errors.New("the api-key grant reads api_key_env, api_key_file or api_key_command, not password_*")
				}
			}
			if p.Grant != GrantAPIKey && (p.APIKeyEnv != "" || p.APIKeyFile != "" || len(p.APIKeyCommand) > 0) {
				return errors.New(`api_key_* keys need grant = "api-key"`)
			}
			return nil
		},
		static: func(p *Profile) bool { return p.Grant == GrantAPIKey },
	},
}

func needUsername(msg string) func(p *Profile) error {
	return func(p *Profile) error {
		if p.Username == "" {
			return errors.New(msg)
		}
		return nil
	}
}

// defaultAPIVersions are the x-api-version revisions the header-versioned
// products send when a profile names none: revisions every release still
// supported accepts, by the products' REST API references ("Versioning"):
// VBR 12.0 to 13 accept 1.1-rev0; VB for AWS 7.0 and 8.0 both accept
// 1.5-rev1 (7.0: 1.3-rev0 to 1.5-rev1, 8.0: 1.4-rev0 to 1.6-rev0); VB for
// Google Cloud 5.0 and 6.0 both accept 1.3-rev0. An appliance that refuses
// the default gets one retry with a revision it names (helper/vbr.go).
var defaultAPIVersions = map[string]string{
	"vbr":   "1.1-rev0",
	"vbaws": "1.5-rev1",
	"vbgcp": "1.3-rev0",
}

// DefaultAPIVersion is the x-api-version a product sends when a profile
// names none ("" for the products without that header).
func DefaultAPIVersion(product string) string { return defaultAPIVersions[product] }

// withAPIVersion fills in the API version the product's x-api-version header
// defaults to (it is part of the cache key) after check passes.
func withAPIVersion(check func(p *Profile) error, def string) func(p *Profile) error {
	return func(p *Profile) error {
		if err := check(p); err != nil {
			return err
		}
		if p.APIVersion == "" {
			p.APIVersion = def
			p.apiVersionDefaulted = true
		}
		return nil
	}
}

// APIVersionDefaulted reports whether api_version was left out of the
// profile and holds the product's default: only then may the engine try
// another revision the server names.
func (p *Profile) APIVersionDefaulted() bool { return p.apiVersionDefaulted }

// VB365APIVersion is the VB365 REST API version of the profile's paths
// (/v8/token …): api_version, else v8. The default is not written into
// the profile, so the cache key of profiles without api_version stays as it was.
func (p *Profile) VB365APIVersion() string {
	if p.APIVersion == "" {
		return VB365APIVersions[0]
	}
	return p.APIVersion
}

// ProductNames lists the known products, sorted.
func ProductNames() []string {
	return slices.Sorted(maps.Keys(products))
}

// Static reports whether the profile's token is a static key with no expiry.
func (p *Profile) Static() bool {
	r := products[p.Product]
	return r.static != nil && r.static(p)
}

// Grants lists a product's grants, the default first (nil for an unknown product).
func Grants(product string) []string { return slices.Clone(products[product].grants) }
