package cache

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A Sealer's items are the file backend's: a sealed value written as a file
// opens through the file store, and the other way round.
func TestSealerIsTheFileFormat(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SEALER_TEST_PASS", "sealer-pass")
	cfg := Config{Backend: BackendFile, Dir: dir, PassphraseEnv: "SEALER_TEST_PASS"}
	st, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := SealerFor(st, cfg, "the test items")
	key := Key("vb365", "https://h:4443", "u", "password", "", "")
	sealed, err := s.Seal(key, []byte("payload-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tokensDir(dir), key), sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := st.Get(key); err != nil || string(b) != "payload-1" {
		t.Fatalf("file store reads the sealed value: %q, %v", b, err)
	}
	if err := st.Set(key, []byte("payload-2")); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(tokensDir(dir), key))
	if b, err := NewSealer(cfg, "the test items").Open(key, raw); err != nil || string(b) != "payload-2" {
		t.Fatalf("sealer opens the file: %q, %v", b, err)
	}

	// Another key's item, garbage: a miss. Another passphrase: unavailable.
	if _, err := s.Open(Key("vb365", "https://other:4443", "u", "password", "", ""), raw); !errors.Is(err, ErrNotFound) {
		t.Errorf("item of another key: %v, want ErrNotFound", err)
	}
	if _, err := s.Open(key, []byte("not.a.jwe")); !errors.Is(err, ErrNotFound) {
		t.Errorf("garbage: %v, want ErrNotFound", err)
	}
	t.Setenv("SEALER_TEST_OTHER", "another-pass")
	_, err = NewSealer(Config{PassphraseEnv: "SEALER_TEST_OTHER"}, "the test items").Open(key, raw)
	// One line naming the cause and the next step: which passphrase to give.
	want := "cannot decrypt the test items: wrong passphrase: they were sealed with another one; give the one they were sealed with (SEALER_TEST_OTHER or cache.passphrase_command)"
	if !IsUnavailable(err) || err.Error() != want {
		t.Errorf("wrong passphrase: %v\nwant %s", err, want)
	}
}
