package cache

import (
	"strings"
	"testing"
	"time"
)

// The cache-read part of a hit (BENCHMARKS.md). BenchmarkFileGet and
// BenchmarkFileOpenGet (filestore_test.go) read through the KEK cache where
// the kernel keyring is usable; BenchmarkFileGetDerive is the same read
// deriving the key every time (no kernel keyring: containers, macOS, Windows).

func benchEntry() []byte {
	b, _ := EncodeEntry(Entry{AccessToken: strings.Repeat("a", 1200), RefreshToken: strings.Repeat("r", 400),
		TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour), IssuedAt: time.Now()})
	return b
}

func BenchmarkDecodeEntry(b *testing.B) {
	e := benchEntry()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEntry(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEntry(b *testing.B) {
	e, _ := DecodeEntry(benchEntry())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeEntry(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Key("vb365", "https://vb365.example.com:4443", `corp\svc-backup`, "password", "", "")
	}
}

// benchGet measures st.Get(k) of v, which it stores first. The Get before
// the loop caches the KEK where the store can.
func benchGet(b *testing.B, st Store, k string, v []byte) {
	b.Helper()
	if err := st.Set(k, v); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Get(k); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Get(k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileGetDerive(b *testing.B) {
	kekCacheDisabled = true
	b.Cleanup(func() { kekCacheDisabled = false })
	benchGet(b, openTestFile(b, b.TempDir(), "bench-passphrase"), "k", benchEntry())
}

func BenchmarkFileGetKEKCached(b *testing.B) {
	if err := keyctlUsable(); err != nil {
		b.Skipf("no kernel keyring here (%v)", err)
	}
	benchGet(b, openTestFile(b, b.TempDir(), "bench-passphrase"), "k", benchEntry())
}
