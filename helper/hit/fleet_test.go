package hit_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
)

// With the fleet backend the front answers the machine's local copy only
// while the fleet confirmed it less than local_max_age ago; an entry
// without that stamp (written before the fleet, or by a local backend) is
// the engine's.
func TestLookupFleetLocalLevel(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, local string
		checked     time.Time
		want        bool
	}{
		{"young", "file", now.Add(-29 * time.Second), true},
		{"as old as local_max_age", "file", now.Add(-30 * time.Second), false},
		{"never confirmed", "file", time.Time{}, false},
		{"from the future", "file", now.Add(time.Minute), false},
		{"no local level", "none", now.Add(-time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.ToSlash(filepath.Join(t.TempDir(), "cache"))
			t.Setenv(passEnv, "hit-test-passphrase")
			cfg, ix := load(t, writeConfig(t, `[profiles.a]
product = "vb365"
url = "https://vb365.example:4443"
username = "u"

[cache]
backend = "etcd"
dir = "`+dir+`"
passphrase_env = "`+passEnv+`"
local = "`+tc.local+`"
local_max_age = "30s"

[cache.etcd]
endpoints = ["https://etcd-1:2379"]
`))
			p, _ := ix.Profile("a")
			if err := cache.EnsureDir(dir); err != nil {
				t.Fatal(err)
			}
			st, err := cache.Open(cache.Config{Backend: cache.BackendFile, Dir: dir, PassphraseEnv: passEnv})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := cache.EncodeEntry(cache.Entry{AccessToken: "at-1", ExpiresAt: now.Add(time.Hour), CheckedAt: tc.checked})
			if err := st.Set(cfg.Profiles["a"].CacheKey(), b); err != nil {
				t.Fatal(err)
			}
			if _, ok := hit.Lookup(ix.Cache(), p, 0, now); ok != tc.want {
				t.Errorf("hit %v, want %v", ok, tc.want)
			}
		})
	}
}
