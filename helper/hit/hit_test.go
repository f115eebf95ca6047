package hit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
)

const passEnv = "HIT_TEST_PASSPHRASE"

// home writes a configuration with the file backend in a fresh directory
// and stores entry e (if AccessToken is set) under profile "a"'s key.
func home(t testing.TB, profileExtra, cacheExtra string, e cache.Entry) (*config.Config, *config.Profile) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(passEnv, "hit-test-passphrase")
	text := `[profiles.a]
product = "vb365"
url = "https://vb365.example:4443"
username = "u"
refresh_before = "60s"
` + profileExtra + `
[cache]
backend = "file"
dir = "` + filepath.ToSlash(filepath.Join(dir, "cache")) + `"
passphrase_env = "` + passEnv + `"
` + cacheExtra
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Profile("a")
	if err != nil {
		t.Fatal(err)
	}
	if e.AccessToken != "" {
		if err := cache.EnsureDir(cfg.Cache.Dir); err != nil {
			t.Fatal(err)
		}
		st, err := cache.Open(cache.Config{Backend: "file", Dir: cfg.Cache.Dir, PassphraseEnv: passEnv})
		if err != nil {
			t.Fatal(err)
		}
		b, err := cache.EncodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Set(p.CacheKey(), b); err != nil {
			t.Fatal(err)
		}
	}
	return cfg, p
}

func TestLookup(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	good := cache.Entry{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", ExpiresAt: now.Add(10 * time.Minute)}

	cfg, p := home(t, "", "", good)
	e, ok := hit.Lookup(cfg, p, 0, now)
	if !ok || e.AccessToken != "at-1" || !e.ExpiresAt.Equal(good.ExpiresAt) {
		t.Fatalf("fresh entry: %+v %v", e, ok)
	}
	// min_valid and refresh_before: the larger one counts.
	if _, ok := hit.Lookup(cfg, p, 9*time.Minute, now); !ok {
		t.Error("a miss with 10m left and min_valid 9m")
	}
	if _, ok := hit.Lookup(cfg, p, 11*time.Minute, now); ok {
		t.Error("a hit with 10m left and min_valid 11m")
	}
	if _, ok := hit.Lookup(cfg, p, 0, now.Add(9*time.Minute+30*time.Second)); ok {
		t.Error("a hit inside refresh_before")
	}
	// A wrong passphrase is the engine's to report.
	t.Setenv(passEnv, "another passphrase")
	if _, ok := hit.Lookup(cfg, p, 0, now); ok {
		t.Error("a hit with the wrong passphrase")
	}
}

func TestLookupMisses(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	good := cache.Entry{AccessToken: "at-1", TokenType: "Bearer", ExpiresAt: now.Add(time.Hour)}
	for _, tc := range []struct {
		name, profile, cache string
		entry                cache.Entry
	}{
		{"no entry", "", "", cache.Entry{}},
		{"insecure_skip_verify (the engine warns on every call)", "insecure_skip_verify = true\n", "", good},
		{"keychain backend", "", "", good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, p := home(t, tc.profile, tc.cache, tc.entry)
			if tc.name == "keychain backend" {
				cfg.Cache.Backend = "secret-service"
			}
			if e, ok := hit.Lookup(cfg, p, 0, now); ok {
				t.Fatalf("a hit: %+v", e)
			}
		})
	}

	// A garbage item is a miss, never an answer.
	cfg, p := home(t, "", "", good)
	item := filepath.Join(cfg.Cache.Dir, "tokens", p.CacheKey())
	if err := os.WriteFile(item, []byte("not a JWE"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := hit.Lookup(cfg, p, 0, now); ok {
		t.Fatal("a hit from a garbage item")
	}
}

// A passphrase that would come from cache.passphrase_command is the
// engine's to get: run here too, the command would run twice on a miss.
func TestLookupLeavesThePassphraseCommandToTheEngine(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	good := cache.Entry{AccessToken: "at-1", TokenType: "Bearer", ExpiresAt: now.Add(time.Hour)}
	ran := filepath.Join(t.TempDir(), "ran")
	cfg, p := home(t, "", "", good)
	// The command would print the right passphrase, and leave a mark.
	cfg.Cache.PassphraseCommand = []string{"sh", "-c", "touch " + ran + "; echo hit-test-passphrase"}
	if _, ok := hit.Lookup(cfg, p, 0, now); !ok {
		t.Fatal("a miss with the passphrase in its variable")
	}
	t.Setenv(passEnv, "")
	if e, ok := hit.Lookup(cfg, p, 0, now); ok {
		t.Fatalf("a hit with the passphrase from the command: %+v", e)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("the passphrase command ran")
	}
}

func TestEligible(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"product = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n", true},
		{"product = \"vb365\"\nurl = \"HTTP://h\"\nusername = \"u\"\ninsecure_plain_http = true\n", false},
		{"product = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\ninsecure_skip_verify = true\n", false},
		{"product = \"vspc\"\nurl = \"https://h\"\ngrant = \"api-key\"\napi_key_env = \"K\"\n", false},
		{"product = \"vspc\"\nurl = \"https://h\"\nusername = \"u\"\n", true},
	} {
		cfg, err := config.Parse([]byte("[profiles.a]\n" + tc.text))
		if err != nil {
			t.Fatal(err)
		}
		if got := hit.Eligible(cfg.Profiles["a"]); got != tc.want {
			t.Errorf("%q: Eligible %v, want %v", tc.text, got, tc.want)
		}
	}
}

// The point of this package: what a hit links stays small. Package init
// runs in every process, so each of these would cost every cache hit.
func TestLinksNoEngine(t *testing.T) {
	for _, pkg := range []string{".", "../../cmd/veeam-credential-helper"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		deps := "\n" + string(out)
		for _, heavy := range []string{"net", "net/http", "crypto/tls", "os/user", "regexp", "golang.org/x/oauth2",
			"github.com/99designs/keyring", "github.com/dvsekhvalnov/jose2go", "google.golang.org/grpc",
			"github.com/veeam-tools/veeam-credential-helper/helper",
			"github.com/veeam-tools/veeam-credential-helper/cache/keychain"} {
			if strings.Contains(deps, "\n"+heavy+"\n") {
				t.Errorf("%s links %s", pkg, heavy)
			}
		}
	}
}

// BenchmarkLookup is the front's whole in-process hit after the
// configuration is parsed: cache dir check, store open, item read and
// decrypt (the KEK cached in the kernel keyring where it may be), entry
// decode, freshness.
func BenchmarkLookup(b *testing.B) {
	now := time.Now()
	cfg, p := home(b, "", "", cache.Entry{AccessToken: "at-1", TokenType: "Bearer", ExpiresAt: now.Add(time.Hour)})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := hit.Lookup(cfg, p, 0, now); !ok {
			b.Fatal("miss")
		}
	}
}
