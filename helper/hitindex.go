package helper

import (
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
)

// LoadConfig reads and validates the configuration file at path (see
// config.Load) and, when the front's index of it is missing or stale,
// writes it again (package hit): the front answers cache hits from that
// index until the file changes, and every call after a change comes here.
func LoadConfig(path string) (*config.Config, error) {
	stamp := hit.Stamp(path)
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if stamp == nil {
		return cfg, nil
	}
	if ix, ok := hit.Open(path); ok {
		ix.Close()
		if !ix.Racy() {
			return cfg, nil
		}
	}
	// Best effort: without an index the front hands every call here.
	_ = hit.Save(path, stamp, hitConfig(cfg))
	return cfg, nil
}

// hitConfig is what the front needs of cfg to answer a cache hit.
func hitConfig(cfg *config.Config) hit.Config {
	hc := hit.Config{
		DefaultProfile: cfg.DefaultProfile,
		Cache: hit.CacheConfig{Backend: cfg.Cache.Backend, Dir: cfg.Cache.Dir, PassphraseEnv: cfg.Cache.PassphraseEnv,
			PassphraseCommand: len(cfg.Cache.PassphraseCommand) > 0, MaxAge: -1},
	}
	if cfg.Cache.Fleet() {
		// The front answers the machine's local level while its copy is young.
		hc.Cache.Backend, hc.Cache.MaxAge = cfg.Cache.LocalLevel()
	}
	for _, name := range cfg.ProfileNames() {
		hc.Profiles = append(hc.Profiles, hitProfile(cfg.Profiles[name]))
	}
	return hc
}

// hitProfile is what the front needs of p. Engine: a static API key (read
// from its source on every call), or a connection the engine warns about on
// every call (insecure_skip_verify, plain http).
func hitProfile(p *config.Profile) hit.Profile {
	keys, _ := p.GitKeys() // validated by config.Load
	return hit.Profile{Name: p.Name, Product: p.Product, URL: p.URL, Username: p.Username, Grant: p.Grant,
		ClientID: p.ClientID, APIVersion: p.APIVersion, RefreshBefore: p.RefreshBefore.Duration,
		Engine: p.Static() || p.InsecureSkipVerify || p.PlainHTTP(), GitKeys: keys}
}
