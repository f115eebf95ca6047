package helper

import "github.com/veeam-tools/veeam-credential-helper/helper/config"

// The configuration lives in package config (no HTTP, TLS or keyring code,
// for the cache-hit front program); these names keep helper's API whole.
type (
	Config      = config.Config
	CacheConfig = config.CacheConfig
	Profile     = config.Profile
	Duration    = config.Duration
)

// Defaults for profile keys left out of the file.
const (
	DefaultRefreshBefore = config.DefaultRefreshBefore
	DefaultTimeout       = config.DefaultTimeout
	DefaultPassphraseEnv = config.DefaultPassphraseEnv
)

var (
	// DefaultConfigPath is $XDG_CONFIG_HOME/veeam-credential-helper/config.toml
	// (%AppData% on Windows, ~/Library/Application Support on macOS).
	DefaultConfigPath = config.DefaultConfigPath
	// LoadConfig reads and validates the configuration file at path.
	LoadConfig = config.Load
	// ParseConfig decodes and validates TOML configuration text.
	ParseConfig = config.Parse
	// ProductNames lists the known products, sorted.
	ProductNames = config.ProductNames
)

const (
	grantPassword  = config.GrantPassword
	grantJWTBearer = config.GrantJWTBearer
	grantOperator  = config.GrantOperator
	grantAPIKey    = config.GrantAPIKey
)
