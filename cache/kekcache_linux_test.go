package cache

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	josea "github.com/dvsekhvalnov/jose2go/aes"
	"golang.org/x/sys/unix"
)

// kekDesc returns the kernel keyring description of the item file key in dir.
func kekDesc(t *testing.T, dir, key string) (string, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "tokens", key))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimSpace(string(raw)), ".")
	var h jweHeader
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hdr, &h); err != nil || h.P2C == nil {
		t.Fatalf("item header: %v", err)
	}
	encKey, _ := base64.RawURLEncoding.DecodeString(parts[1])
	desc, _ := kekCacheID("", h.Alg, *h.P2C, h.P2S, encKey)
	return desc, encKey
}

func TestKEKCache(t *testing.T) {
	if err := keyctlUsable(); err != nil {
		t.Skipf("SKIP: the kernel refuses keyctl syscalls here (%v); the KEK cache is not used here", err)
	}
	dir := t.TempDir()
	st := openTestFile(t, dir, "kek-pass")
	k := Key("vb365", "https://kek", "u", "password", "", "")
	if err := st.Set(k, []byte("token-1")); err != nil {
		t.Fatal(err)
	}
	desc, _ := kekDesc(t, dir, k)
	t.Cleanup(func() {
		if id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0); err == nil {
			_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		}
	})
	if _, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0); err == nil {
		t.Fatal("KEK cached before any read")
	}
	if got, err := st.Get(k); err != nil || string(got) != "token-1" {
		t.Fatalf("first Get = %q, %v", got, err)
	}
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0)
	if err != nil {
		t.Fatalf("the first Get did not cache the KEK: %v", err)
	}
	// Possessor and user only, never writable, with a timeout.
	d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil || !strings.HasPrefix(d, "user;") || !strings.Contains(d, ";3b3b0000;") || !strings.HasSuffix(d, desc) {
		t.Errorf("describe = %q, %v", d, err)
	}
	masked := make([]byte, 64)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, masked, 0)
	if err != nil || n != 16 {
		t.Fatalf("payload: %d bytes, %v", n, err)
	}
	// The payload is not the KEK: unwrapping with it fails.
	_, encKey := kekDesc(t, dir, k)
	if _, err := unwrapWith(encKey, masked[:n]); err == nil {
		t.Error("the cached payload unwraps the item without the passphrase")
	}

	// A second process (new Store) reads through the cache.
	st2 := openTestFile(t, dir, "kek-pass")
	if got, err := st2.Get(k); err != nil || string(got) != "token-1" {
		t.Fatalf("cached Get = %q, %v", got, err)
	}
	// A wrong passphrase still fails with the KEK cached.
	bad := openTestFile(t, dir, "not-the-pass")
	if _, err := bad.Get(k); !IsUnavailable(err) {
		t.Fatalf("wrong passphrase with a cached KEK: %v", err)
	}
	// A damaged payload falls back to the derivation.
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	kekCachePut(desc, make([]byte, 16))
	if got, err := openTestFile(t, dir, "kek-pass").Get(k); err != nil || string(got) != "token-1" {
		t.Fatalf("Get with a garbage payload = %q, %v", got, err)
	}
	// A new version of the item has a new salt: a new cache entry.
	if err := st.Set(k, []byte("token-2")); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(k); err != nil || string(got) != "token-2" {
		t.Fatalf("Get after Set = %q, %v", got, err)
	}
	desc2, _ := kekDesc(t, dir, k)
	if desc2 == desc {
		t.Error("two item versions share a KEK cache entry")
	}
	if id2, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc2, 0); err == nil {
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id2, 0, 0, 0)
	}
}

func unwrapWith(encKey, kek []byte) ([]byte, error) {
	c, err := josea.KeyUnwrap(encKey, kek)
	if err == nil && len(c) == 0 {
		return nil, errors.New("empty")
	}
	return c, err
}
