//go:build linux

package cache

import "testing"

func BenchmarkKeyctlGet(b *testing.B) {
	service := keyctlService(b, "vch-bench-")
	st, err := Open(Config{Backend: "keyctl", ServiceName: service, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	k := Key("vb365", "https://bench", "u", "password", "", "")
	// Stored here too for OpenGet, which may run alone.
	if err := st.Set(k, benchEntry()); err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) { benchGet(b, st, k, benchEntry()) })
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
