//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestEnsureDir(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	base := t.TempDir()
	fresh := filepath.Join(base, "a", "b")
	if err := EnsureDir(fresh); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, fresh); m != 0o700 {
		t.Errorf("created mode %#o, want 0700", m)
	}
	if err := EnsureDir(fresh); err != nil {
		t.Errorf("second call: %v", err)
	}

	for _, m := range []os.FileMode{0o777, 0o770, 0o720, 0o702} {
		d := filepath.Join(base, "m"+m.String())
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, m); err != nil {
			t.Fatal(err)
		}
		err := EnsureDir(d)
		if !IsUnavailable(err) || !strings.Contains(err.Error(), "writable by group or others") {
			t.Errorf("EnsureDir(%#o dir) = %v, want unavailable", m, err)
		}
		if got := mode(t, d); got != m {
			t.Errorf("EnsureDir changed the mode of a refused dir to %#o", got)
		}
	}
	// Readable (not writable) by group is accepted.
	d := filepath.Join(base, "r")
	_ = os.Mkdir(d, 0o750)
	_ = os.Chmod(d, 0o750)
	if err := EnsureDir(d); err != nil {
		t.Errorf("0750: %v", err)
	}

	f := filepath.Join(base, "file")
	_ = os.WriteFile(f, nil, 0o600)
	if err := EnsureDir(f); !IsUnavailable(err) {
		t.Errorf("a file: %v", err)
	}
	if err := EnsureDir(""); !IsUnavailable(err) {
		t.Errorf("empty: %v", err)
	}

	// Open refuses an insecure dir too.
	bad := filepath.Join(base, "m"+os.FileMode(0o777).String())
	if _, err := Open(Config{Backend: "file", Dir: bad}); !IsUnavailable(err) {
		t.Errorf("Open on a 0777 dir: %v", err)
	}
	if _, err := NewFileLocker(bad).Lock(t.Context(), "k"); !IsUnavailable(err) {
		t.Errorf("Lock on a 0777 dir: %v", err)
	}
}

func TestEnsureDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a directory to another user")
	}
	d := filepath.Join(t.TempDir(), "other")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, 12345, 12345); err != nil {
		t.Skipf("chown refused: %v", err)
	}
	if err := EnsureDir(d); !IsUnavailable(err) || !strings.Contains(err.Error(), "owned by uid 12345") || !strings.Contains(err.Error(), "set cache.dir") {
		t.Errorf("dir of another user: %v", err)
	}
	// The default directory (sudo keeping another user's HOME) is not offered as the way out.
	t.Setenv("XDG_CACHE_HOME", filepath.Dir(d))
	if err := os.Rename(d, DefaultDir()); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDir(DefaultDir()); !IsUnavailable(err) || !strings.Contains(err.Error(), "run as its owner") || strings.Contains(err.Error(), "leave it unset") {
		t.Errorf("default dir of another user: %v", err)
	}
}
