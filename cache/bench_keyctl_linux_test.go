//go:build linux

package cache

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"golang.org/x/sys/unix"
)

func BenchmarkKeyctlGet(b *testing.B) {
	if err := keyctlUsable(); err != nil {
		b.Skipf("no kernel keyring here (%v)", err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	service := "vch-bench-" + hex.EncodeToString(rnd[:])
	b.Cleanup(func() {
		if id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", service, 0); err == nil {
			_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
		}
	})
	st, err := Open(Config{Backend: "keyctl", ServiceName: service, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	k := Key("vb365", "https://bench", "u", "password", "", "")
	if err := st.Set(k, benchEntry()); err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Get(k); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What a process does: open the backend, then one Get.
	b.Run("OpenGet", func(b *testing.B) {
		dir := b.TempDir()
		b.ReportAllocs()
		for b.Loop() {
			st, err := Open(Config{Backend: "keyctl", ServiceName: service, Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Get(k); err != nil {
				b.Fatal(err)
			}
		}
	})
}
