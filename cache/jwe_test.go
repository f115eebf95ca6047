package cache

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	jose "github.com/dvsekhvalnov/jose2go"
)

// What sealItem writes is a JWE that jose2go (keyring's JOSE library)
// decrypts, with the header keyring's own items have. (keyring's file
// backend itself reads them: see cache/keychain.)
func TestSealItemJose2go(t *testing.T) {
	for _, data := range [][]byte{[]byte(`{"v":1,"access_token":"secret-at"}`), {}, {0, 0xff, '"'}} {
		tok, err := sealItem("k-1.password", data, "pässphrase")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(tok), "secret-at") {
			t.Fatal("plaintext in the sealed item")
		}
		payload, hdr, err := jose.Decode(string(tok), "pässphrase")
		if err != nil {
			t.Fatalf("jose2go cannot open our item: %v", err)
		}
		want := `{"Key":"k-1.password","Data":"` + base64.StdEncoding.EncodeToString(data) +
			`","Label":"","Description":"","KeychainNotTrustApplication":false,"KeychainNotSynchronizable":false}`
		if payload != want {
			t.Errorf("payload\n got %s\nwant %s", payload, want)
		}
		var keys []string
		for k := range hdr {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"alg", "created", "enc", "p2c", "p2s"}) {
			t.Errorf("header fields %v", keys)
		}
		if hdr["alg"] != "PBES2-HS256+A128KW" || hdr["enc"] != "A256GCM" || hdr["p2c"] != float64(8192) {
			t.Errorf("header %v", hdr)
		}
		if salt, err := base64.RawURLEncoding.DecodeString(hdr["p2s"].(string)); err != nil || len(salt) != 16 {
			t.Errorf("p2s %q: %d bytes, %v", hdr["p2s"], len(salt), err)
		}
		if c, _ := hdr["created"].(string); c == "" || strings.Contains(c, "m=") {
			t.Errorf("created %q", c)
		}
		if _, _, err := jose.Decode(string(tok), "wrong"); err == nil {
			t.Error("jose2go opened our item with a wrong passphrase")
		}
		// And our reader opens it.
		if got, err := openItem("k-1.password", tok, "pässphrase", stdItemJSON{}); err != nil || string(got) != string(data) {
			t.Errorf("openItem: %q, %v", got, err)
		}
	}
	// Two seals of the same item differ (salt, key, nonce).
	a, _ := sealItem("k", []byte("v"), "p")
	b, _ := sealItem("k", []byte("v"), "p")
	pa, pb := strings.Split(string(a), "."), strings.Split(string(b), ".")
	for i := 1; i < 5; i++ {
		if pa[i] == pb[i] {
			t.Errorf("part %d repeats across seals", i)
		}
	}
}

// Items jose2go seals as keyring's file backend does (the same call) are read.
func TestOpenJose2goItem(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "shared")
	tok, err := jose.Encrypt(`{"Key":"k","Data":"ZGF0YQ==","Label":"x","Description":"y","KeychainNotTrustApplication":false,"KeychainNotSynchronizable":true}`,
		jose.PBES2_HS256_A128KW, jose.A256GCM, "shared", jose.Headers(map[string]any{"created": "now"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens", "k"), []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get("k"); err != nil || string(got) != "data" {
		t.Errorf("Get: %q, %v", got, err)
	}
}

func TestOpenBackends(t *testing.T) {
	for _, b := range []string{"secret-service", "kwallet", "pass", "keychain", "wincred", " KWallet "} {
		st, err := Open(Config{Backend: b, Dir: t.TempDir()})
		if st != nil || !errors.Is(err, ErrNeedsKeychain) || IsUnavailable(err) {
			t.Errorf("Open(%q) = %v, %v; want ErrNeedsKeychain", b, st, err)
		}
	}
	if _, err := Open(Config{Backend: "nope", Dir: t.TempDir()}); err == nil || errors.Is(err, ErrNeedsKeychain) {
		t.Errorf("unknown backend: %v", err)
	}
	st, err := Open(Config{Backend: " File ", Dir: t.TempDir()})
	if err != nil || st.Backend() != "file" {
		t.Errorf("file: %v, %v", st, err)
	}

	switch runtime.GOOS {
	case "linux":
		for _, addr := range []string{"", "autolaunch:"} {
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
			if c := KeychainCandidates(); len(c) != 0 {
				t.Errorf("candidates with DBUS_SESSION_BUS_ADDRESS=%q: %v", addr, c)
			}
			for _, b := range []string{"", "auto", "AUTO"} {
				st, err := Open(Config{Backend: b, Dir: t.TempDir()})
				if err != nil || st.Backend() != "file" {
					t.Errorf("auto (%q) without D-Bus: %v, %v; want the file backend", b, st, err)
				}
			}
		}
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
		if c := KeychainCandidates(); !slices.Equal(c, []string{"secret-service", "kwallet"}) {
			t.Errorf("candidates with D-Bus: %v", c)
		}
		fallthrough
	case "darwin", "windows":
		if _, err := Open(Config{Backend: "auto", Dir: t.TempDir()}); !errors.Is(err, ErrNeedsKeychain) {
			t.Errorf("auto with a keychain candidate: %v", err)
		}
	}
}
