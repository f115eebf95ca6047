package config

import (
	"errors"
	"slices"
	"sort"
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

var products = map[string]rules{
	"vb365": {
		grants: []string{GrantPassword, GrantJWTBearer, GrantOperator},
		validate: func(p *Profile) error {
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
		validate:    withAPIVersion(needUsername(`username is required (e.g. 'CORP\backup-operator')`), "1.1-rev0"),
	},
	"vbaws": {
		grants:   []string{GrantPassword},
		validate: withAPIVersion(needUsername("username is required"), "1.7-rev0"),
	},
	"vbgcp": {
		grants:   []string{GrantPassword},
		validate: withAPIVersion(needUsername("username is required"), "1.4-rev0"),
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

// withAPIVersion fills in the API version the product's x-api-version header
// defaults to (it is part of the cache key) after check passes.
func withAPIVersion(check func(p *Profile) error, def string) func(p *Profile) error {
	return func(p *Profile) error {
		if err := check(p); err != nil {
			return err
		}
		if p.APIVersion == "" {
			p.APIVersion = def
		}
		return nil
	}
}

// ProductNames lists the known products, sorted.
func ProductNames() []string {
	names := make([]string, 0, len(products))
	for n := range products {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Static reports whether the profile's token is a static key with no expiry.
func (p *Profile) Static() bool {
	r := products[p.Product]
	return r.static != nil && r.static(p)
}

// Grants lists a product's grants, the default first (nil for an unknown product).
func Grants(product string) []string { return slices.Clone(products[product].grants) }
