package helper

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// The engine part of a cache hit (BENCHMARKS.md): configuration load and
// Helper.Get answering from the file backend.

const benchConfig = `default_profile = "m365"

[cache]
backend = "file"
passphrase_env = "VCH_BENCH_PASSPHRASE"

[profiles.m365]
product = "vb365"
url = "https://vb365.example.com:4443"
username = 'corp\svc-backup'
password_env = "VB365_PASSWORD"
ca_file = "/etc/ssl/certs/vb365.pem"
refresh_before = "60s"
timeout = "30s"

[profiles.azure]
product = "vbazure"
url = "https://vbazure.example.com"
username = "admin"
password_command = ["pass", "show", "vbazure"]
mfa_code_command = ["oathtool", "--totp", "-b", "JBSWY3DPEHPK3PXP"]

[profiles.jwt]
product = "vb365"
url = "https://vb365-2.example.com:4443"
grant = "jwt-bearer"
client_id = "app-1"
assertion_file = "/run/secrets/assertion"
`

func writeBenchConfig(b *testing.B, cacheDir string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "config.toml")
	text := strings.Replace(benchConfig, "[cache]\n", "[cache]\ndir = '"+cacheDir+"'\n", 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkParseConfig(b *testing.B) {
	data := []byte(benchConfig)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := config.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadConfig(b *testing.B) {
	path := writeBenchConfig(b, b.TempDir())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := config.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetHit is one process's hit after start-up: load the
// configuration, open the store, read and decode the entry.
func BenchmarkGetHit(b *testing.B) {
	b.Setenv("VCH_BENCH_PASSPHRASE", "bench-passphrase")
	path := writeBenchConfig(b, b.TempDir())
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	h := New(cfg)
	st, _, err := h.OpenCache()
	if err != nil {
		b.Fatal(err)
	}
	p, _ := cfg.Profile("m365")
	e, _ := cache.EncodeEntry(cache.Entry{AccessToken: strings.Repeat("a", 1200), RefreshToken: strings.Repeat("r", 400),
		TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)})
	if err := st.Set(p.CacheKey(), e); err != nil {
		b.Fatal(err)
	}
	if _, err := h.Get(context.Background(), Request{}); err != nil { // caches the KEK where it can
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := config.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := New(cfg).Get(context.Background(), Request{})
		if err != nil || r.Source != SourceCache {
			b.Fatal(r, err)
		}
	}
}
