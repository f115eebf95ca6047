package cache

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	josea "github.com/dvsekhvalnov/jose2go/aes"
	"golang.org/x/sys/unix"
)

// kekSlot returns the kernel keyring description of the item key's slot and
// the version and wrapped key of the item file as it is now.
func kekSlot(t *testing.T, dir, key string) (desc string, version, encKey []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "tokens", key))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimSpace(string(raw)), ".")
	var h JWEHeader
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hdr, &h); err != nil || h.P2C == nil {
		t.Fatalf("item header: %v", err)
	}
	encKey, _ = base64.RawURLEncoding.DecodeString(parts[1])
	desc, version, _ = kekCacheID(key, "", h.Alg, *h.P2C, h.P2S, encKey)
	return desc, version, encKey
}

func readSlot(t *testing.T, desc string) (int, []byte) {
	t.Helper()
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0)
	if err != nil {
		return 0, nil
	}
	buf := make([]byte, 128)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		t.Fatalf("read slot: %v", err)
	}
	return id, buf[:n]
}

// slotsNamed counts the keys with this description linked in the user
// keyring (a displaced key may linger in /proc/keys until the kernel's
// garbage collector runs).
func slotsNamed(t *testing.T, desc string) int {
	t.Helper()
	buf := make([]byte, 1<<16)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, unix.KEY_SPEC_USER_KEYRING, buf, 0)
	if err != nil || n > len(buf) {
		t.Fatalf("read the user keyring: %d, %v", n, err)
	}
	count := 0
	for i := 0; i+4 <= n; i += 4 {
		id := int(int32(binary.NativeEndian.Uint32(buf[i:])))
		if d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id); err == nil && strings.HasSuffix(d, ";"+desc) {
			count++
		}
	}
	return count
}

func TestKEKCache(t *testing.T) {
	if err := keyctlUsable(); err != nil {
		t.Skipf("SKIP: the kernel refuses keyctl syscalls here (%v); the KEK cache is not used here", err)
	}
	if !kekQuotaRoom(100) {
		t.Skip("SKIP: the user's kernel key quota is more than half used: the KEK cache stays off")
	}
	dir := t.TempDir()
	st := openTestFile(t, dir, "kek-pass")
	k := Key("vb365", "https://kek-"+t.Name()+"-"+filepath.Base(dir), "u", "password", "", "")
	if err := st.Set(k, []byte("token-1")); err != nil {
		t.Fatal(err)
	}
	desc, version, encKey := kekSlot(t, dir, k)
	t.Cleanup(func() {
		if id, _ := readSlot(t, desc); id != 0 {
			_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		}
	})
	if id, _ := readSlot(t, desc); id != 0 {
		t.Fatal("KEK cached before any read")
	}
	if got, err := st.Get(k); err != nil || string(got) != "token-1" {
		t.Fatalf("first Get = %q, %v", got, err)
	}
	id, payload := readSlot(t, desc)
	if id == 0 {
		t.Fatal("the first Get did not cache the KEK")
	}
	// Possessor and user only, never writable.
	if d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id); err != nil || !strings.HasPrefix(d, "user;") || !strings.Contains(d, ";3b3b0000;") || !strings.HasSuffix(d, desc) {
		t.Errorf("describe = %q, %v", d, err)
	}
	if len(payload) != kekVersionLen+16 || !bytes.Equal(payload[:kekVersionLen], version) {
		t.Fatalf("payload %d bytes, version %x, want %x", len(payload), payload[:min(len(payload), kekVersionLen)], version)
	}
	// The payload is not the KEK: it does not unwrap the item without the passphrase.
	if _, err := josea.KeyUnwrap(encKey, payload[kekVersionLen:]); err == nil {
		t.Error("the cached payload unwraps the item without the passphrase")
	}

	// A second process (new Store) reads through the cache.
	if got, err := openTestFile(t, dir, "kek-pass").Get(k); err != nil || string(got) != "token-1" {
		t.Fatalf("cached Get = %q, %v", got, err)
	}
	// A wrong passphrase still fails with the KEK cached.
	if _, err := openTestFile(t, dir, "not-the-pass").Get(k); !IsUnavailable(err) {
		t.Fatalf("wrong passphrase with a cached KEK: %v", err)
	}
	// A damaged payload with the right version falls back to the derivation.
	kekCachePut(desc, append(append([]byte(nil), version...), make([]byte, 16)...))
	if got, err := openTestFile(t, dir, "kek-pass").Get(k); err != nil || string(got) != "token-1" {
		t.Fatalf("Get with a garbage payload = %q, %v", got, err)
	}

	// A new version of the item: the same slot, replaced, never a second key.
	if err := st.Set(k, []byte("token-2")); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(k); err != nil || string(got) != "token-2" {
		t.Fatalf("Get after Set = %q, %v", got, err)
	}
	desc2, version2, _ := kekSlot(t, dir, k)
	_, payload2 := readSlot(t, desc2)
	if desc2 != desc || bytes.Equal(version2, version) || !bytes.HasPrefix(payload2, version2) {
		t.Fatalf("second version: desc %q (first %q), payload %x, version %x", desc2, desc, payload2, version2)
	}
	if n := slotsNamed(t, desc); n != 1 {
		t.Fatalf("%d keys named %s, want 1", n, desc)
	}
}

func TestKEKQuotaRoom(t *testing.T) {
	const keyUsers = `    0:  1497 1496/1496 1491/1000000 132857/25000000
 1000:     5 5/5 5/200 390/20000
 1001:   101 101/101 100/200 8000/20000
 1002:    40 40/40 40/200 9990/20000
`
	for _, tc := range []struct {
		uid  int
		want bool
	}{
		{0, true},     // root's quota is large
		{1000, true},  // 5 of 200 keys
		{1001, false}, // one more would pass half the keys
		{1002, false}, // one more would pass half the bytes
		{1003, true},  // no keys yet
	} {
		if got := quotaRoom([]byte(keyUsers), tc.uid, 100); got != tc.want {
			t.Errorf("uid %d: room = %v, want %v", tc.uid, got, tc.want)
		}
	}
	if quotaRoom([]byte(" 1000: 5 5/5 garbage 390/20000\n"), 1000, 100) {
		t.Error("an unparsable line gives room")
	}
}
