package helper

import (
	"context"
	"crypto/tls"
	"os"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/cache/etcd"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// openFleet opens the fleet backend (cache.backend = "etcd"): the local
// level in dir and the machine's lock files in front of the etcd cluster.
// Nothing is dialled yet.
func (h *Helper) openFleet(dir string) (cache.Store, cache.Locker, error) {
	c := h.Config.Cache
	e := c.Etcd
	backend, maxAge := c.LocalLevel()
	ccfg := h.cacheConfig(backend, dir)
	var local cache.Store
	if backend != cache.LocalNone {
		st, err := cache.Open(ccfg)
		if err != nil {
			return nil, nil, cacheError(err)
		}
		local = st
	}
	tlsCfg, err := fleetTLS(e.Endpoints, e.CAFile, e.CertFile, e.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	password := ""
	if e.Username != "" {
		if password, err = fleetPassword(e.PasswordEnv, e.PasswordFile, e.PasswordCommand, e.DialTimeout.Duration, h.secretVariables()); err != nil {
			return nil, nil, err
		}
	}
	fl := etcd.New(etcd.Config{
		Endpoints:   e.Endpoints,
		Prefix:      e.Prefix,
		TLS:         tlsCfg,
		Username:    e.Username,
		Password:    password,
		DialTimeout: e.DialTimeout.Duration,
		LockTTL:     e.LockTTL.Duration,
		LocalMaxAge: maxAge,
	}, local, cache.NewFileLocker(dir), cache.SealerFor(local, ccfg, "the fleet's tokens in etcd"))
	fl.Warn = func(msg string) { h.warnf("%s", msg) }
	fl.Now = h.now
	return fl, fl, nil
}

// fleetTLS is the client's TLS configuration for https endpoints: the
// CA of ca_file (else the system's), the client certificate if any. The
// files are trusted as a profile's ca_file and secret files are: a CA or
// certificate another user can change, or a key others can read, would
// hand them the etcd connection (its password, the fleet's items).
func fleetTLS(endpoints []string, caFile, certFile, keyFile string) (*tls.Config, error) {
	if !strings.HasPrefix(endpoints[0], "https://") {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := readCAPool(caFile, "cache.etcd.ca_file")
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		certPEM, err := config.ReadTrusted(certFile, "cache.etcd.cert_file", false)
		if err != nil {
			return nil, err
		}
		keyPEM, err := config.ReadTrusted(keyFile, "cache.etcd.key_file", true)
		if err != nil {
			return nil, err
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, exitcode.UsageError("cache.etcd.cert_file and key_file: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// fleetPassword is the etcd user's password from its one configured source.
func fleetPassword(env, file string, command []string, timeout time.Duration, drop []string) (string, error) {
	switch {
	case env != "":
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
		return "", exitcode.Errorf(exitcode.Cache, "cache.etcd.password_env: $%s is not set", env)
	case file != "":
		b, err := config.ReadTrusted(file, "cache.etcd.password_file", true)
		if err != nil {
			return "", err
		}
		if v := strings.TrimRight(string(b), "\r\n"); v != "" {
			return v, nil
		}
		return "", exitcode.Errorf(exitcode.Cache, "cache.etcd.password_file %s is empty", file)
	default:
		timeout = max(timeout, 10*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		v, err := runSecretCommand(ctx, "cache.etcd", "password", command, drop, timeout)
		if exitcode.Of(err) == exitcode.Unreachable {
			return "", err // killed at the timeout: exit 4, as every timeout
		}
		if err != nil {
			return "", exitcode.Wrapf(exitcode.Cache, err, "%v", err)
		}
		return v, nil
	}
}

// FleetStatus is what `status` says of the fleet for one profile.
type FleetStatus struct {
	Endpoints []string `json:"endpoints"`
	Reachable bool     `json:"reachable"`
	// Healthy: every endpoint answers with a leader.
	Healthy bool `json:"healthy"`
	// TokenValid: etcd holds a fresh (unexpired) access token for the profile.
	TokenValid bool      `json:"token_valid"`
	ValidUntil time.Time `json:"token_valid_until,omitzero"`
	Error      string    `json:"error,omitempty"`
}

// fleetStatuses fills in each status's Fleet when the store is the fleet's.
func (h *Helper) fleetStatuses(st cache.Store, out []Status) {
	fl, ok := st.(*etcd.Fleet)
	if !ok {
		return
	}
	health := fl.Health()
	for i := range out {
		s := &out[i]
		fs := &FleetStatus{Endpoints: health.Endpoints, Reachable: health.Reachable, Healthy: health.Healthy}
		s.Fleet = fs
		if health.Err != nil {
			fs.Error = exitcode.OneLine(health.Err.Error(), 300)
			continue
		}
		p := h.Config.Profiles[s.Profile]
		if p == nil || p.Static() {
			continue
		}
		b, err := fl.FleetGet(p.CacheKey())
		if err != nil {
			if err != cache.ErrNotFound {
				fs.Error = exitcode.OneLine(err.Error(), 300)
			}
			continue
		}
		if e, err := cache.DecodeEntry(b); err == nil && e.AccessToken != "" {
			fs.ValidUntil = e.ExpiresAt.UTC()
			fs.TokenValid = e.ExpiresAt.After(h.now())
		}
	}
}
