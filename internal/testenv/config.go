package testenv

import (
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is a test configuration file: what tests write instead of TOML
// text, so that every home spells the keys alike and a key renamed in
// helper/config is renamed here once.
type Config struct {
	DefaultProfile string
	Profiles       []Profile
	Cache          Cache
}

// Profile is one [profiles.NAME] table. Empty fields are left out of the
// file, so the engine's defaults apply.
type Profile struct {
	Name string `toml:"-"`

	Product  string `toml:"product,omitempty"`
	URL      string `toml:"url,omitempty"`
	Username string `toml:"username,omitempty"`
	Grant    string `toml:"grant,omitempty"`
	ClientID string `toml:"client_id,omitempty"`

	PasswordEnv      string   `toml:"password_env,omitempty"`
	PasswordFile     string   `toml:"password_file,omitempty"`
	PasswordCommand  []string `toml:"password_command,omitempty"`
	AssertionEnv     string   `toml:"assertion_env,omitempty"`
	AssertionFile    string   `toml:"assertion_file,omitempty"`
	AssertionCommand []string `toml:"assertion_command,omitempty"`
	MFACodeCommand   []string `toml:"mfa_code_command,omitempty"`
	APIKeyEnv        string   `toml:"api_key_env,omitempty"`
	APIKeyFile       string   `toml:"api_key_file,omitempty"`
	APIKeyCommand    []string `toml:"api_key_command,omitempty"`

	CAFile             string `toml:"ca_file,omitempty"`
	PinSHA256          string `toml:"pin_sha256,omitempty"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify,omitempty"`
	InsecurePlainHTTP  bool   `toml:"insecure_plain_http,omitempty"`

	APIVersion              string   `toml:"api_version,omitempty"`
	RefreshBefore           string   `toml:"refresh_before,omitempty"`
	Timeout                 string   `toml:"timeout,omitempty"`
	DisableAntiforgeryToken *bool    `toml:"disable_antiforgery_token,omitempty"`
	GitHosts                []string `toml:"git_hosts,omitempty"`

	// Extra is raw TOML appended to the table: a key this struct does not
	// name, or a mistake a test makes on purpose.
	Extra string `toml:"-"`
}

// Cache is the [cache] table.
type Cache struct {
	Backend           string   `toml:"backend,omitempty"`
	Dir               string   `toml:"dir,omitempty"`
	PassphraseEnv     string   `toml:"passphrase_env,omitempty"`
	PassphraseCommand []string `toml:"passphrase_command,omitempty"`
}

// Profile returns the named profile for editing, or nil.
func (c *Config) Profile(name string) *Profile {
	for i := range c.Profiles {
		if c.Profiles[i].Name == name {
			return &c.Profiles[i]
		}
	}
	return nil
}

// TOML is the configuration file's text.
func (c Config) TOML() string {
	var b strings.Builder
	if c.DefaultProfile != "" {
		b.WriteString("default_profile = " + strconv.Quote(c.DefaultProfile) + "\n\n")
	}
	for _, p := range c.Profiles {
		b.WriteString("[profiles." + tableKey(p.Name) + "]\n")
		b.Write(marshal(p))
		if p.Extra != "" {
			b.WriteString(strings.TrimRight(p.Extra, "\n") + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("[cache]\n")
	b.Write(marshal(c.Cache))
	return b.String()
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tableKey(name string) string {
	if bareKey.MatchString(name) {
		return name
	}
	return strconv.Quote(name)
}

// marshal encodes a flat struct of strings, bools and string lists; it
// cannot fail for the types above.
func marshal(v any) []byte {
	b, err := toml.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Write writes c to the home's ConfigPath, with the file backend in the
// home's CacheDir unless c names a backend, and keeps it in e.Config for
// tests that change a key and write again.
func (e *Env) Write(c Config) {
	e.T.Helper()
	if c.Cache.Backend == "" {
		c.Cache.Backend = "file"
		if c.Cache.Dir == "" {
			c.Cache.Dir = e.CacheDir
		}
	}
	e.Config = c
	if err := os.WriteFile(e.ConfigPath, []byte(c.TOML()), 0o600); err != nil {
		e.T.Fatal(err)
	}
}

// Profiles writes a configuration of these profiles (see Write).
func (e *Env) Profiles(ps ...Profile) { e.Write(Config{Profiles: ps}) }

// ProfileOf is a profile named name for the home's emulator of product: its
// product, URL and CA file; the test adds the identity and secret source.
func (e *Env) ProfileOf(name, product string) Profile {
	e.T.Helper()
	em := e.Emulators[product]
	if em == nil {
		e.T.Fatalf("no %s emulator in this home", product)
	}
	return Profile{Name: name, Product: product, URL: em.URL(), CAFile: e.CAFile(product)}
}

// UserProfile is ProfileOf for username, whose password the test puts in
// the variable passwordEnv.
func (e *Env) UserProfile(name, product, username, passwordEnv string) Profile {
	e.T.Helper()
	p := e.ProfileOf(name, product)
	p.Username, p.PasswordEnv = username, passwordEnv
	return p
}

// User registers username with password on the home's emulator of product
// and returns a profile named name for that user, the password in the
// variable PASSWORD_<NAME>.
func (e *Env) User(name, product, username, password string) Profile {
	e.T.Helper()
	em := e.Emulators[product]
	if em == nil {
		e.T.Fatalf("no %s emulator in this home", product)
	}
	em.AddUser(username, password)
	env := "PASSWORD_" + strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name))
	e.Vars[env] = password
	return e.UserProfile(name, product, username, env)
}
