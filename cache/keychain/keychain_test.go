package keychain

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/keyring"
	jose "github.com/dvsekhvalnov/jose2go"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

const testPassEnv = "VCH_TEST_CACHE_PASSPHRASE"

func openTestFile(t testing.TB, dir, pass string) cache.Store {
	t.Helper()
	t.Setenv(testPassEnv, pass)
	st, err := Open(cache.Config{Backend: "file", Dir: dir, PassphraseEnv: testPassEnv})
	if err != nil {
		t.Fatal(err)
	}
	if st.Backend() != "file" {
		t.Fatalf("Backend() = %q", st.Backend())
	}
	return st
}

func fileKeyring(t testing.TB, dir, pass string) keyring.Keyring {
	t.Helper()
	kr, err := keyring.Open(keyring.Config{
		AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
		FileDir:          dir,
		FilePasswordFunc: keyring.FixedStringPrompt(pass),
	})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Items stay compatible with 99designs/keyring's own file backend, both ways.
func TestFileKeyringCompat(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "shared")
	kr := fileKeyring(t, filepath.Join(dir, "tokens"), "shared")
	if err := kr.Set(keyring.Item{Key: "from-keyring", Data: []byte("k-data")}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get("from-keyring"); err != nil || string(got) != "k-data" {
		t.Errorf("our Get of a keyring item: %q, %v", got, err)
	}
	if err := st.Set("from-us", []byte("our-data")); err != nil {
		t.Fatal(err)
	}
	it, err := kr.Get("from-us")
	if err != nil || string(it.Data) != "our-data" {
		t.Errorf("keyring Get of our item: %q, %v", it.Data, err)
	}
	// An item keyring wrote with every field set is read too.
	full := keyring.Item{Key: "full", Data: []byte{0, 1, 2}, Label: "l", Description: "d",
		KeychainNotTrustApplication: true, KeychainNotSynchronizable: true}
	if err := kr.Set(full); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get("full"); err != nil || string(got) != "\x00\x01\x02" {
		t.Errorf("our Get of a full keyring item: %q, %v", got, err)
	}
	// Ours with empty data comes back empty from keyring.
	if err := st.Set("empty", nil); err != nil {
		t.Fatal(err)
	}
	if it, err := kr.Get("empty"); err != nil || len(it.Data) != 0 || it.Key != "empty" {
		t.Errorf("keyring Get of our empty item: %+v, %v", it, err)
	}
}

// Our item's plaintext is byte for byte the JSON keyring writes for the same
// keyring.Item, under the header fields keyring writes.
func TestFileItemShape(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "shared")
	data := []byte(`{"v":1,"access_token":"a<b>&"}`)
	if err := st.Set("shape", data); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "tokens", "shape"))
	if err != nil {
		t.Fatal(err)
	}
	payload, ours, err := jose.Decode(string(raw), "shared")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(keyring.Item{Key: "shape", Data: data})
	if payload != string(want) {
		t.Errorf("payload\n got %s\nwant %s", payload, want)
	}

	kdir := t.TempDir()
	if err := fileKeyring(t, kdir, "shared").Set(keyring.Item{Key: "shape", Data: data}); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(filepath.Join(kdir, "shape"))
	if err != nil {
		t.Fatal(err)
	}
	_, theirs, err := jose.Decode(string(raw), "shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(ours) != len(theirs) {
		t.Errorf("header fields: ours %v, keyring's %v", ours, theirs)
	}
	for k, v := range theirs {
		if _, ok := ours[k]; !ok {
			t.Errorf("header field %q missing", k)
		}
		if k != "p2s" && k != "created" && ours[k] != v {
			t.Errorf("header %q = %v, keyring writes %v", k, ours[k], v)
		}
	}
}

func TestOpenDelegates(t *testing.T) {
	t.Setenv(testPassEnv, "p")
	st, err := Open(cache.Config{Backend: "File", Dir: t.TempDir(), PassphraseEnv: testPassEnv})
	if err != nil || st.Backend() != "file" {
		t.Fatalf("file: %v, %v", st, err)
	}
	if _, err := Open(cache.Config{Backend: "nope", Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "is not one of") {
		t.Errorf("unknown backend: %v", err)
	}
	// Never ErrNeedsKeychain: this package is the keychain support.
	for _, b := range []string{"", "auto", "secret-service", "kwallet", "pass", "keychain", "wincred"} {
		if _, err := Open(cache.Config{Backend: b, Dir: t.TempDir()}); errors.Is(err, cache.ErrNeedsKeychain) {
			t.Errorf("%q: %v", b, err)
		}
	}
}

func BenchmarkKeyringFileGet(b *testing.B) {
	kr := fileKeyring(b, b.TempDir(), "bench-passphrase")
	if err := kr.Set(keyring.Item{Key: "k", Data: []byte("v")}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := kr.Get("k"); err != nil {
			b.Fatal(err)
		}
	}
}
