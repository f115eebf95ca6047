package hit_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
)

const passEnv = "HIT_TEST_PASSPHRASE"

// writeConfig writes text as a configuration file in a fresh directory,
// with XDG_CACHE_HOME (where the index lives) there too, and waits until
// the file's times are settled enough for an index to be saved.
func writeConfig(t testing.TB, text string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "xdg-cache"))
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	return path
}

// load runs the engine's loading (which saves the index) and opens the
// index as the front does.
func load(t testing.TB, path string) (*config.Config, *hit.Index) {
	t.Helper()
	cfg, err := helper.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ix, ok := hit.Open(path)
	if !ok {
		t.Fatal("no index after the engine read the configuration")
	}
	t.Cleanup(ix.Close)
	return cfg, ix
}

// home writes a configuration with the file backend and stores entry e
// (if AccessToken is set) under profile "a"'s key.
func home(t testing.TB, profileExtra, cacheExtra string, e cache.Entry) (*hit.Index, *hit.Profile) {
	t.Helper()
	t.Setenv(passEnv, "hit-test-passphrase")
	cacheDir := filepath.Join(t.TempDir(), "cache")
	path := writeConfig(t, `[profiles.a]
product = "vb365"
url = "https://vb365.example:4443"
username = "u"
refresh_before = "60s"
`+profileExtra+`
[cache]
backend = "file"
dir = "`+filepath.ToSlash(cacheDir)+`"
passphrase_env = "`+passEnv+`"
`+cacheExtra)
	cfg, ix := load(t, path)
	p, ok := ix.Profile("")
	if !ok {
		t.Fatal("no profile a")
	}
	if e.AccessToken != "" {
		if err := cache.EnsureDir(cacheDir); err != nil {
			t.Fatal(err)
		}
		st, err := cache.Open(cache.Config{Backend: "file", Dir: cacheDir, PassphraseEnv: passEnv})
		if err != nil {
			t.Fatal(err)
		}
		b, err := cache.EncodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Set(cfg.Profiles["a"].CacheKey(), b); err != nil {
			t.Fatal(err)
		}
	}
	return ix, p
}

func TestLookup(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	good := cache.Entry{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", ExpiresAt: now.Add(10 * time.Minute)}

	ix, p := home(t, "", "", good)
	e, ok := hit.Lookup(ix.Cache(), p, 0, now)
	if !ok || e.AccessToken != "at-1" || !e.ExpiresAt.Equal(good.ExpiresAt) {
		t.Fatalf("fresh entry: %+v %v", e, ok)
	}
	// min_valid and refresh_before: the larger one counts.
	if _, ok := hit.Lookup(ix.Cache(), p, 9*time.Minute, now); !ok {
		t.Error("a miss with 10m left and min_valid 9m")
	}
	if _, ok := hit.Lookup(ix.Cache(), p, 11*time.Minute, now); ok {
		t.Error("a hit with 10m left and min_valid 11m")
	}
	if _, ok := hit.Lookup(ix.Cache(), p, 0, now.Add(9*time.Minute+30*time.Second)); ok {
		t.Error("a hit inside refresh_before")
	}
	// A token that lives no longer than what is asked is a hit while half
	// its lifetime is left, as in the engine (no refresh on every call).
	short := cache.Entry{AccessToken: "at-2", TokenType: "Bearer", IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(4 * time.Minute)}
	ix, p = home(t, "", "", short)
	if _, ok := hit.Lookup(ix.Cache(), p, 2*time.Hour, now); !ok {
		t.Error("a miss for a 5-minute token with 4 minutes left and min_valid 2h")
	}
	if _, ok := hit.Lookup(ix.Cache(), p, 2*time.Hour, now.Add(2*time.Minute)); ok {
		t.Error("a hit for a 5-minute token with 2 minutes left")
	}
	// A wrong passphrase is the engine's to report.
	t.Setenv(passEnv, "another passphrase")
	if _, ok := hit.Lookup(ix.Cache(), p, 0, now); ok {
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
		// Tokens the engine treats as expired (no output format carries them).
		{"a space in the token", "", "", cache.Entry{AccessToken: "at 1", TokenType: "Bearer", ExpiresAt: now.Add(time.Hour)}},
		{"DEL in the token", "", "", cache.Entry{AccessToken: "at\x7f1", TokenType: "Bearer", ExpiresAt: now.Add(time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, p := home(t, tc.profile, tc.cache, tc.entry)
			if e, ok := hit.Lookup(ix.Cache(), p, 0, now); ok {
				t.Fatalf("a hit: %+v", e)
			}
		})
	}
	ix, p := home(t, "", "", good)
	c := ix.Cache()
	c.Backend = "secret-service"
	if _, ok := hit.Lookup(c, p, 0, now); ok {
		t.Fatal("a hit from a keychain backend")
	}
	// A garbage item is a miss, never an answer.
	item := filepath.Join(ix.Cache().Dir, "tokens", p.CacheKey())
	if err := os.WriteFile(item, []byte("not a JWE"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := hit.Lookup(ix.Cache(), p, 0, now); ok {
		t.Fatal("a hit from a garbage item")
	}
}

// A passphrase that would come from cache.passphrase_command is the
// engine's to get: run here too, the command would run twice on a miss.
func TestLookupLeavesThePassphraseCommandToTheEngine(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	good := cache.Entry{AccessToken: "at-1", TokenType: "Bearer", ExpiresAt: now.Add(time.Hour)}
	ran := filepath.Join(t.TempDir(), "ran")
	ix, p := home(t, "", `passphrase_command = ["sh", "-c", "touch `+ran+`; echo hit-test-passphrase"]`+"\n", good)
	if _, ok := hit.Lookup(ix.Cache(), p, 0, now); !ok {
		t.Fatal("a miss with the passphrase in its variable")
	}
	t.Setenv(passEnv, "")
	if e, ok := hit.Lookup(ix.Cache(), p, 0, now); ok {
		t.Fatalf("a hit with the passphrase from the command: %+v", e)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("the passphrase command ran")
	}
}

func TestEngineProfiles(t *testing.T) {
	for _, tc := range []struct {
		text   string
		engine bool
	}{
		{"product = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n", false},
		{"product = \"vb365\"\nurl = \"HTTP://h\"\nusername = \"u\"\ninsecure_plain_http = true\n", true},
		{"product = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\ninsecure_skip_verify = true\n", true},
		{"product = \"vspc\"\nurl = \"https://h\"\ngrant = \"api-key\"\napi_key_env = \"K\"\n", true},
		{"product = \"vspc\"\nurl = \"https://h\"\nusername = \"u\"\n", false},
	} {
		_, ix := load(t, writeConfig(t, "[profiles.a]\n"+tc.text))
		p, ok := ix.Profile("a")
		if !ok || p.Engine != tc.engine {
			t.Errorf("%q: Engine %v (%v), want %v", tc.text, p.Engine, ok, tc.engine)
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
			"github.com/BurntSushi/toml", "go.etcd.io/etcd/client/v3",
			"github.com/veeam-tools/veeam-credential-helper/helper",
			"github.com/veeam-tools/veeam-credential-helper/helper/config",
			"github.com/veeam-tools/veeam-credential-helper/cache/keychain",
			"github.com/veeam-tools/veeam-credential-helper/cache/etcd"} {
			if strings.Contains(deps, "\n"+heavy+"\n") {
				t.Errorf("%s links %s", pkg, heavy)
			}
		}
	}
}

// profilesText is a configuration of n vb365 profiles p00000…, each with
// its own git host and username, and a shared git host h-shared served by
// every profile (told apart by username).
func profilesText(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "default_profile = %q\n\n[cache]\nbackend = \"keyctl\"\n", "p00000")
	for i := range n {
		fmt.Fprintf(&b, "\n[profiles.p%05d]\nproduct = \"vb365\"\nurl = \"https://vb%d.example:4443\"\nusername = \"user%d\"\n"+
			"git_hosts = [\"git%d.example\", \"https://h-shared.example\"]\n", i, i, i, i)
	}
	return b.String()
}

// BenchmarkLookup is the front's whole in-process hit: index open and
// profile lookup, cache dir check, store open, item read and decrypt (the
// KEK cached in the kernel keyring where it may be), entry decode,
// freshness.
func BenchmarkLookup(b *testing.B) {
	now := time.Now()
	ix, _ := home(b, "", "", cache.Entry{AccessToken: "at-1", TokenType: "Bearer", ExpiresAt: now.Add(time.Hour)})
	b.ReportAllocs()
	for b.Loop() {
		p, ok := ix.Profile("a")
		if !ok {
			b.Fatal("no profile")
		}
		if _, ok := hit.Lookup(ix.Cache(), p, 0, now); !ok {
			b.Fatal("miss")
		}
	}
}
