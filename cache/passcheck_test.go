package cache

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func listTokens(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(tokensDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		fi, _ := e.Info()
		names = append(names, e.Name()+" "+fi.ModTime().String())
	}
	sort.Strings(names)
	return strings.Join(names, "\n")
}

// A passphrase the cache was not written with is refused by Unlock and
// Set before anything is written, with the next step; ClearUndecryptable
// (the reset of `logout --all`) makes the cache usable again.
func TestPassphraseCheck(t *testing.T) {
	dir := t.TempDir()
	a := openTestFile(t, dir, "passphrase-A")
	if err := a.Set("k1", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Set("k1.password", []byte("stored-login")); err != nil {
		t.Fatal(err)
	}
	before := listTokens(t, dir)

	b := openTestFile(t, dir, "passphrase-B")
	for name, err := range map[string]error{"Unlock": b.(Unlocker).Unlock(), "Set": b.Set("k2", []byte("v2"))} {
		if !IsUnavailable(err) || !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), "logout --all") ||
			strings.Contains(err.Error(), "passphrase-") {
			t.Fatalf("%s with another passphrase: %v", name, err)
		}
	}
	if after := listTokens(t, dir); after != before {
		t.Fatalf("a wrong passphrase wrote:\n%s\n---\n%s", before, after)
	}

	// A cache written before the check existed: an item tells.
	if err := os.Remove(filepath.Join(tokensDir(dir), checkName)); err != nil {
		t.Fatal(err)
	}
	b = openTestFile(t, dir, "passphrase-B")
	if err := b.(Unlocker).Unlock(); !IsUnavailable(err) || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("Unlock of a cache without a check: %v", err)
	}
	a = openTestFile(t, dir, "passphrase-A")
	if err := a.(Unlocker).Unlock(); err != nil {
		t.Fatalf("the right passphrase: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tokensDir(dir), checkName)); err != nil {
		t.Fatalf("the check was not written: %v", err)
	}

	// The reset with B: A's items go, B owns the cache.
	b = openTestFile(t, dir, "passphrase-B")
	n, err := b.(*fileStore).ClearUndecryptable()
	if err != nil || n != 2 {
		t.Fatalf("ClearUndecryptable: %d, %v", n, err)
	}
	if err := b.Set("k2", []byte("v2")); err != nil {
		t.Fatalf("Set after the reset: %v", err)
	}
	// With the right passphrase the reset keeps what it opens.
	if n, err := b.(*fileStore).ClearUndecryptable(); err != nil || n != 0 {
		t.Fatalf("ClearUndecryptable with the cache's passphrase: %d, %v", n, err)
	}
	if got, err := b.Get("k2"); err != nil || string(got) != "v2" {
		t.Fatalf("Get: %q, %v", got, err)
	}
	// Without any passphrase the reset clears everything.
	none := openTestFile(t, dir, "")
	if n, err := none.(*fileStore).ClearUndecryptable(); err != nil || n != 1 {
		t.Fatalf("ClearUndecryptable without a passphrase: %d, %v", n, err)
	}
	if left := listTokens(t, dir); left != "" {
		t.Fatalf("left after the reset: %s", left)
	}
}

// Temp files a crash left between write and rename are removed by the
// next write; a write in progress (a fresh temp file) is left alone.
func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "p")
	if err := st.Set("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(tokensDir(dir), tempPrefix+"k-123")
	fresh := filepath.Join(tokensDir(dir), tempPrefix+"k-456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("sealed"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := st.Set("k", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed: %v", err)
	}
}
