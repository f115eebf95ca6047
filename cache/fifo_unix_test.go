//go:build unix

package cache

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO planted at an item's path is a miss, read without waiting for a
// writer (it hung the helper), and the next Set replaces it.
func TestFIFOAtItemPath(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "p")
	if err := st.Set("other", []byte("x")); err != nil { // creates tokens/
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(tokensDir(dir), "k"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a FIFO: %v", err)
	}
	if err := st.Set("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get("k"); err != nil || string(got) != "v" {
		t.Fatalf("after Set: %q, %v", got, err)
	}
}
