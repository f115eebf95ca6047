package config

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// EtcdConfig is the [cache.etcd] table: the cluster a fleet of machines
// shares one server session per identity through (backend = "etcd").
type EtcdConfig struct {
	Endpoints       []string `toml:"endpoints"`
	Prefix          string   `toml:"prefix"`
	CAFile          string   `toml:"ca_file"`
	CertFile        string   `toml:"cert_file"`
	KeyFile         string   `toml:"key_file"`
	Username        string   `toml:"username"`
	PasswordEnv     string   `toml:"password_env"`
	PasswordFile    string   `toml:"password_file"`
	PasswordCommand []string `toml:"password_command"`
	DialTimeout     Duration `toml:"dial_timeout"`
	LockTTL         Duration `toml:"lock_ttl"`
}

// Defaults of the fleet keys.
const (
	DefaultEtcdPrefix  = "/veeam-credential-helper/"
	DefaultDialTimeout = 2 * time.Second
	DefaultLockTTL     = 15 * time.Second
	DefaultLocalMaxAge = 30 * time.Second
)

// Fleet reports whether the cache is shared through etcd.
func (c CacheConfig) Fleet() bool { return c.Backend == cache.BackendEtcd }

// LocalLevel is the fleet's per-machine level: its backend (keyctl, file or
// none, the default resolved) and how long a copy there is answered without
// asking etcd.
func (c CacheConfig) LocalLevel() (backend string, maxAge time.Duration) {
	maxAge = DefaultLocalMaxAge
	if c.LocalMaxAge != nil {
		maxAge = c.LocalMaxAge.Duration
	}
	return cache.LocalBackend(c.Local), maxAge
}

// validateFleet checks the fleet keys and fills in their defaults.
func (c *CacheConfig) validateFleet() error {
	if !c.Fleet() {
		switch {
		case c.Local != "":
			return exitcode.UsageError("cache.local is only for backend = \"etcd\" (the level in front of it)")
		case c.LocalMaxAge != nil:
			return exitcode.UsageError("cache.local_max_age is only for backend = \"etcd\"")
		}
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(c.Local)) {
	case "", cache.BackendKeyctl, cache.BackendFile, cache.LocalNone:
	default:
		return exitcode.UsageError("cache.local %q is not one of keyctl, file, none", c.Local)
	}
	e := c.Etcd
	if e == nil || len(e.Endpoints) == 0 {
		return exitcode.UsageError("cache.backend = \"etcd\" needs cache.etcd.endpoints (e.g. [\"https://etcd-1:2379\", \"https://etcd-2:2379\", \"https://etcd-3:2379\"])")
	}
	scheme := ""
	for _, ep := range e.Endpoints {
		u, err := url.Parse(ep)
		switch {
		case err != nil:
			// url.Parse's error quotes the text, which may hold a password.
			return exitcode.UsageError("cache.etcd.endpoints: an entry is not a URL like https://etcd-1:2379")
		case u.User != nil:
			return exitcode.UsageError("cache.etcd.endpoints: %s must not hold credentials: use username and password_env, password_file or password_command", u.Redacted())
		case (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/"):
			return exitcode.UsageError("cache.etcd.endpoints: %q is not a URL like https://etcd-1:2379", ep)
		}
		if scheme != "" && u.Scheme != scheme {
			return exitcode.UsageError("cache.etcd.endpoints mix http and https: use https for every member")
		}
		scheme = u.Scheme
	}
	if scheme == "http" && (e.CAFile != "" || e.CertFile != "" || e.KeyFile != "") {
		return exitcode.UsageError("cache.etcd: ca_file, cert_file and key_file need https endpoints")
	}
	if scheme == "http" && e.Username != "" && !loopbackOnly(e.Endpoints) {
		return exitcode.UsageError("cache.etcd: username over http endpoints would send its password in the clear: use https")
	}
	if (e.CertFile == "") != (e.KeyFile == "") {
		return exitcode.UsageError("cache.etcd: cert_file and key_file go together (the client certificate and its key)")
	}
	sources := 0
	for _, set := range []bool{e.PasswordEnv != "", e.PasswordFile != "", len(e.PasswordCommand) > 0} {
		if set {
			sources++
		}
	}
	switch {
	case e.Username == "" && sources > 0:
		return exitcode.UsageError("cache.etcd: a password source without username")
	case e.Username != "" && sources == 0:
		return exitcode.UsageError("cache.etcd: username %q needs its password from password_env, password_file or password_command", e.Username)
	case sources > 1:
		return exitcode.UsageError("cache.etcd: give the password by one of password_env, password_file, password_command")
	}
	if e.Prefix == "" {
		e.Prefix = DefaultEtcdPrefix
	}
	if e.DialTimeout.Duration == 0 {
		e.DialTimeout.Duration = DefaultDialTimeout
	}
	if e.LockTTL.Duration == 0 {
		e.LockTTL.Duration = DefaultLockTTL
	}
	if e.LockTTL.Duration < time.Second || e.LockTTL.Duration%time.Second != 0 {
		return exitcode.UsageError("cache.etcd.lock_ttl %s: etcd leases are whole seconds, at least \"1s\"", e.LockTTL.Duration)
	}
	return nil
}

// loopbackOnly reports whether every endpoint is on this machine.
func loopbackOnly(endpoints []string) bool {
	for _, ep := range endpoints {
		u, _ := url.Parse(ep)
		// An address, not a name that merely starts with "127.".
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}
