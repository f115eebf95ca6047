// Package config reads and validates the TOML configuration of
// veeam-credential-helper: profiles, the cache table, profile selection (by
// name or by git host), the cache key and the freshness rule. It links no
// HTTP, TLS or keyring code; the cache-hit front reads the index the engine
// compiles from it (package hit) instead.
package config

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// Config is the TOML configuration file; each field is the key in its toml tag.
type Config struct {
	DefaultProfile string              `toml:"default_profile"`
	Cache          CacheConfig         `toml:"cache"`
	Profiles       map[string]*Profile `toml:"profiles"`

	Path string `toml:"-"` // where it was read from
}

// CacheConfig is the [cache] table; each field is the key in its toml tag.
type CacheConfig struct {
	Backend           string   `toml:"backend"`
	Dir               string   `toml:"dir"`
	PassphraseEnv     string   `toml:"passphrase_env"`
	PassphraseCommand []string `toml:"passphrase_command"`

	// The fleet backend (backend = "etcd"): fleet.go.
	Local       string      `toml:"local"`
	LocalMaxAge *Duration   `toml:"local_max_age"`
	Etcd        *EtcdConfig `toml:"etcd"`
}

// Profile is one [profiles.NAME] table: one identity on one server. Each
// field is the key in its toml tag; Name is the table's NAME.
type Profile struct {
	Name string `toml:"-"`

	Product  string `toml:"product"`
	URL      string `toml:"url"`
	Username string `toml:"username"`
	Grant    string `toml:"grant"`

	PasswordEnv     string   `toml:"password_env"`
	PasswordFile    string   `toml:"password_file"`
	PasswordCommand []string `toml:"password_command"`
	// Password is only here to refuse it with a helpful message.
	Password *string `toml:"password"`

	ClientID         string   `toml:"client_id"`
	AssertionEnv     string   `toml:"assertion_env"`
	AssertionFile    string   `toml:"assertion_file"`
	AssertionCommand []string `toml:"assertion_command"`

	MFACodeCommand []string `toml:"mfa_code_command"`

	// vspc grant = "api-key": a static key used as the bearer token.
	APIKeyEnv     string   `toml:"api_key_env"`
	APIKeyFile    string   `toml:"api_key_file"`
	APIKeyCommand []string `toml:"api_key_command"`

	CAFile             string `toml:"ca_file"`
	PinSHA256          string `toml:"pin_sha256"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
	// InsecurePlainHTTP allows an http:// url (and git over http): without
	// it a token or password never crosses the network unencrypted.
	InsecurePlainHTTP bool `toml:"insecure_plain_http"`

	APIVersion              string   `toml:"api_version"`
	RefreshBefore           Duration `toml:"refresh_before"`
	Timeout                 Duration `toml:"timeout"`
	DisableAntiforgeryToken *bool    `toml:"disable_antiforgery_token"`
	GitHosts                []string `toml:"git_hosts"`

	apiVersionDefaulted bool // api_version was filled in from the product's default
}

// Duration is a time.Duration written as "60s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (use e.g. \"60s\", \"5m\")")
	}
	if v < 0 {
		return fmt.Errorf("must not be negative")
	}
	d.Duration = v
	return nil
}

// Defaults for profile keys left out of the file.
const (
	DefaultRefreshBefore = 60 * time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultPassphraseEnv = "VEEAM_CREDENTIAL_HELPER_PASSPHRASE"
)

// DefaultConfigPath is $XDG_CONFIG_HOME/veeam-credential-helper/config.toml
// (%AppData% on Windows, ~/Library/Application Support on macOS).
func DefaultConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "veeam-credential-helper", "config.toml")
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	if path == "" {
		return nil, exitcode.UsageError("no configuration file: set --config or VEEAM_CREDENTIAL_HELPER_CONFIG")
	}
	data, err := ReadTrusted(path, FileConfig, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, exitcode.UsageError("configuration file %s does not exist: create it with `veeam-credential-helper init` (see README: Configuration), or try everything without one with `demo`", path)
	}
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, prefixErr(path, err)
	}
	cfg.Path = path
	cfg.resolvePaths()
	return cfg, nil
}

// MaxFileSize bounds the configuration file (10,000 profiles take about
// 1.5 MB): a bigger one is refused before it is parsed.
const MaxFileSize = 4 << 20

// MaxNesting bounds how deep arrays and inline tables nest (table headers
// count one or two): the TOML parser's cost grows with the square of the
// depth, and a deep enough file exhausts its stack.
const MaxNesting = 16

// resolvePaths makes every relative path the file names relative to the
// configuration file's directory, not to the working directory: git runs
// credential helpers inside working trees, where a relative cache.dir (and
// its lock files) would land in each tree and single flight would break, a
// relative ca_file would trust the repository's CA, a relative *_file would
// read the repository's secret, and a command given as a relative path
// ("./get-password") would run the repository's code. A command without a
// directory ("pass") is still looked up on PATH.
func (c *Config) resolvePaths() {
	if c.Path == "" {
		return
	}
	base, err := filepath.Abs(filepath.Dir(c.Path))
	if err != nil {
		return
	}
	file := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	command := func(argv []string) {
		if len(argv) > 0 && filepath.Base(argv[0]) != argv[0] {
			file(&argv[0])
		}
	}
	file(&c.Cache.Dir)
	command(c.Cache.PassphraseCommand)
	if e := c.Cache.Etcd; e != nil {
		file(&e.CAFile)
		file(&e.CertFile)
		file(&e.KeyFile)
		file(&e.PasswordFile)
		command(e.PasswordCommand)
	}
	for _, p := range c.Profiles {
		file(&p.CAFile)
		file(&p.PasswordFile)
		file(&p.AssertionFile)
		file(&p.APIKeyFile)
		command(p.PasswordCommand)
		command(p.AssertionCommand)
		command(p.MFACodeCommand)
		command(p.APIKeyCommand)
	}
}

func prefixErr(path string, err error) error {
	e := exitcode.AsError(err)
	return &exitcode.Error{Exit: e.Exit, Msg: path + ": " + e.Msg, Err: e.Err}
}

// Parse decodes and validates TOML configuration text.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, exitcode.UsageError("configuration larger than %d MiB", MaxFileSize>>20)
	}
	if err := checkNesting(data); err != nil {
		return nil, err
	}
	var cfg Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&cfg)
	if err != nil {
		return nil, tomlError(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		where := ""
		if line := keyLine(data, k); line > 0 {
			where = fmt.Sprintf("line %d: ", line)
		}
		return nil, exitcode.UsageError("%sunknown configuration key %q", where, k.String())
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// tomlError words a TOML error without the values it quotes: an unquoted
// password is a syntax error whose text would hold it.
func tomlError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := withoutQuoted(pe.Message)
		if pe.LastKey != "" {
			msg = fmt.Sprintf("key %q: %s", pe.LastKey, msg)
		}
		if pe.Position.Line > 0 {
			msg = fmt.Sprintf("line %d: %s", pe.Position.Line, msg)
		}
		return exitcode.UsageError("%s", msg)
	}
	// Type errors of the decoder: `line N (last key "K"): …`; the key stays.
	msg := strings.TrimPrefix(err.Error(), "toml: ")
	const lastKey = `(last key "`
	if i := strings.Index(msg, lastKey); i >= 0 {
		rest := msg[i+len(lastKey):]
		if j := strings.Index(rest, `"):`); j >= 0 {
			return exitcode.UsageError("%s(last key %q)%s", withoutQuoted(msg[:i]), rest[:j], withoutQuoted(rest[j+2:]))
		}
	}
	return exitcode.UsageError("%s", withoutQuoted(msg))
}

// withoutQuoted replaces what msg quotes ("…" or '…') with an ellipsis,
// except in the parser's "Key '…' has already been defined" and the like,
// which quote a key.
func withoutQuoted(msg string) string {
	if strings.HasPrefix(msg, "Key '") {
		return msg
	}
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		q := msg[i]
		if q != '"' && q != '\'' {
			b.WriteByte(q)
			continue
		}
		j := i + 1
		for ; j < len(msg) && msg[j] != q; j++ {
			if msg[j] == '\\' && q == '"' {
				j++
			}
		}
		b.WriteString("…")
		i = j
	}
	return b.String()
}

// checkNesting refuses arrays and inline tables nested deeper than
// MaxNesting before the parser sees them. It follows TOML's strings and
// comments only as far as brackets inside them are concerned.
func checkNesting(data []byte) error {
	depth, line := 0, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			delim := string(c)
			if i+2 < len(data) && data[i+1] == c && data[i+2] == c {
				delim = strings.Repeat(delim, 3)
			}
			j := i + len(delim)
			for j < len(data) && !bytes.HasPrefix(data[j:], []byte(delim)) {
				if data[j] == '\\' && c == '"' {
					j++
				} else if data[j] == '\n' {
					if len(delim) == 1 {
						break // an unterminated string: the parser says so
					}
					line++
				}
				j++
			}
			i = j + len(delim) - 1
		case '[', '{':
			depth++
			if depth > MaxNesting {
				return exitcode.UsageError("line %d: arrays or inline tables nested deeper than %d", line, MaxNesting)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

// keyLine finds the line where an undecoded key is written: the key's own
// line when it is a plain key, else the table header (the TOML library
// reports no position for an undecoded key).
func keyLine(data []byte, k toml.Key) int {
	last := k[len(k)-1]
	parent := ""
	if len(k) > 1 {
		parent = strings.Join(k[:len(k)-1], ".")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	current := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if header, ok := tableHeader(line); ok {
			current = strings.ReplaceAll(strings.ReplaceAll(header, `"`, ""), " ", "")
			if current == k.String() && hasWord(header, last) {
				return n
			}
			continue
		}
		if current == parent && assigns(line, last) {
			return n
		}
	}
	return 0
}

// tableHeader returns what is inside a "[table]" or "[[array]]" header line, trimmed.
func tableHeader(line string) (string, bool) {
	s := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(s, "[") {
		return "", false
	}
	s = strings.TrimLeft(s, "[")
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", false
	}
	h := strings.TrimSpace(s[:end])
	return h, h != ""
}

// assigns reports whether line is `key = …` or `"key" = …`.
func assigns(line, key string) bool {
	s := strings.TrimLeft(line, " \t")
	s = strings.TrimPrefix(s, `"`)
	if !strings.HasPrefix(s, key) {
		return false
	}
	s = strings.TrimPrefix(s[len(key):], `"`)
	return strings.HasPrefix(strings.TrimLeft(s, " \t"), "=")
}

// hasWord reports whether word occurs in s delimited by non-word characters.
func hasWord(s, word string) bool {
	isWord := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 || word == "" {
			return false
		}
		j += i
		if (j == 0 || !isWord(s[j-1])) && (j+len(word) == len(s) || !isWord(s[j+len(word)])) {
			return true
		}
		i = j + 1
	}
}

func (c *Config) validate() error {
	if c.Cache.PassphraseEnv == "" {
		c.Cache.PassphraseEnv = DefaultPassphraseEnv
	}
	switch c.Cache.Backend {
	case "", "auto", "file", "keyctl", "secret-service", "kwallet", "pass", "keychain", "wincred", "etcd":
	default:
		return exitcode.UsageError("cache.backend %q is not one of auto, file, keyctl, secret-service, kwallet, pass, keychain, wincred, etcd", c.Cache.Backend)
	}
	if err := c.Cache.validateFleet(); err != nil {
		return err
	}
	if len(c.Profiles) == 0 {
		return exitcode.UsageError("no profiles: add a [profiles.NAME] table")
	}
	for name, p := range c.Profiles {
		if p == nil {
			return exitcode.UsageError("profile %q is empty", name)
		}
		p.Name = name
		if err := p.validate(); err != nil {
			return err
		}
	}
	if c.DefaultProfile != "" && c.Profiles[c.DefaultProfile] == nil {
		return exitcode.UsageError("default_profile %q is not a profile (have: %s)", c.DefaultProfile, strings.Join(c.ProfileNames(), ", "))
	}
	return nil
}

func (p *Profile) validate() error {
	bad := func(format string, args ...any) error {
		return exitcode.UsageError("profile %q: %s", p.Name, fmt.Sprintf(format, args...))
	}
	if p.Password != nil {
		return bad("a literal password in the configuration file is refused: use password_env, password_file, password_command, or `veeam-credential-helper login`")
	}
	prod, ok := products[p.Product]
	if !ok {
		if p.Product == "" {
			return bad("product is missing (one of %s)", strings.Join(ProductNames(), ", "))
		}
		return bad("unknown product %q (known: %s)", p.Product, strings.Join(ProductNames(), ", "))
	}
	u, err := url.Parse(p.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return bad("url %q is not an http(s) URL like https://server:4443", p.URL)
	}
	if u.User != nil {
		return bad("url must not hold credentials")
	}
	if u.Scheme == "http" && !p.InsecurePlainHTTP {
		return bad("url %q is plain http: the password and tokens would cross the network unencrypted; use https, or set insecure_plain_http = true to allow it", p.URL)
	}
	p.URL = strings.TrimRight(p.URL, "/")
	if prod.defaultPort != "" && u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), prod.defaultPort)
		p.URL = strings.TrimRight(u.String(), "/")
	}
	if p.Grant == "" {
		p.Grant = prod.grants[0]
	}
	if !contains(prod.grants, p.Grant) {
		return bad("grant %q is not one of %s for product %s", p.Grant, strings.Join(prod.grants, ", "), p.Product)
	}
	if err := prod.validate(p); err != nil {
		return bad("%s", err.Error())
	}
	if p.RefreshBefore.Duration == 0 {
		p.RefreshBefore.Duration = DefaultRefreshBefore
	}
	if p.Timeout.Duration == 0 {
		p.Timeout.Duration = DefaultTimeout
	}
	// A bad git_hosts entry is a configuration error now, not when git asks.
	if _, err := p.GitKeys(); err != nil {
		return err
	}
	if p.PinSHA256 != "" {
		if _, err := DecodePin(p.PinSHA256); err != nil {
			return bad("pin_sha256: %v", err)
		}
	}
	return nil
}

// AntiforgeryDisabled reports whether grants send disable_antiforgery_token=true (the default).
func (p *Profile) AntiforgeryDisabled() bool {
	return p.DisableAntiforgeryToken == nil || *p.DisableAntiforgeryToken
}

// PlainHTTP reports whether the profile's url sends credentials unencrypted.
func (p *Profile) PlainHTTP() bool {
	return len(p.URL) >= 7 && strings.EqualFold(p.URL[:7], "http://")
}

// Identity is the name the server knows the profile by: the username, or
// the client_id of a jwt-bearer or operator profile.
func (p *Profile) Identity() string {
	if p.Username != "" {
		return p.Username
	}
	return p.ClientID
}

// ProfileNames lists the profiles, sorted.
func (c *Config) ProfileNames() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Profile resolves a profile: the given name, else default_profile, else the only one.
func (c *Config) Profile(name string) (*Profile, error) {
	if name == "" {
		name = c.DefaultProfile
	}
	if name == "" {
		if len(c.Profiles) == 1 {
			for _, p := range c.Profiles {
				return p, nil
			}
		}
		return nil, exitcode.UsageError("several profiles (%s) and no default_profile: choose one with -p", strings.Join(c.ProfileNames(), ", "))
	}
	p := c.Profiles[name]
	if p == nil {
		return nil, exitcode.UsageError("unknown profile %q (have: %s)", name, strings.Join(c.ProfileNames(), ", "))
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DecodePin decodes pin_sha256: the base64 SHA-256 of the server's public
// key (SubjectPublicKeyInfo), optionally prefixed "sha256/".
func DecodePin(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "sha256/"))
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("not the base64 of a SHA-256 digest")
	}
	return b, nil
}

// CacheKey is the identity of a profile's cached session.
func (p *Profile) CacheKey() string {
	return cache.Key(p.Product, p.URL, p.Username, p.Grant, p.ClientID, p.APIVersion)
}

// Fresh reports whether e is good at now for at least
// max(refresh_before, minValid), by cache.Entry.FreshFor's rule.
func (p *Profile) Fresh(e cache.Entry, minValid time.Duration, now time.Time) bool {
	return e.FreshFor(max(p.RefreshBefore.Duration, minValid), now)
}
