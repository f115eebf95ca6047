//go:build unix

package helper_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

// cacheModes checks that every directory of the cache is 0700 and every
// file 0600, and returns the number of files.
func cacheModes(t *testing.T, dir string) int {
	t.Helper()
	files := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %#o, want %#o", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	return files
}

// A cache directory others could write to, or that another user owns, is
// refused (exit 6) by the engine and by the front's hit lookup alike: a
// planted item could hand out an attacker's token.
func TestCacheDirUnsafeRefused(t *testing.T) {
	x, _ := m365Home(t, emulator.Options{}, nil)
	x.mustGet(m365, helper.SourceGrant)
	if n := cacheModes(t, x.CacheDir); n < 2 { // the item and its lock file
		t.Errorf("%d files in the cache dir", n)
	}
	if _, err := helper.LoadConfig(x.ConfigPath); err != nil { // writes the front's index
		t.Fatal(err)
	}
	ix, ok := hit.Open(x.ConfigPath)
	if !ok {
		t.Fatal("no index of the configuration")
	}
	defer ix.Close()
	p, _ := ix.Profile("m365")
	unsafe := func(t *testing.T, op func() error, says string, front bool) {
		t.Helper()
		x.command()
		if err := op(); exitOf(err) != exitcode.Cache || !strings.Contains(err.Error(), says) {
			t.Errorf("exit %d: %v", exitOf(err), err)
		}
		if _, ok := hit.Lookup(ix.Cache(), p, 0, time.Now()); ok && front {
			t.Error("the front's lookup answered from an unsafe cache dir")
		}
	}
	get := func(r helper.Request) func() error { return func() error { _, err := x.do(r); return err } }
	statuses := func() error { _, err := x.h.Statuses(); return err }
	for _, tc := range []struct {
		dir  string
		mode os.FileMode
		op   func() error
		// front: the hit lookup must refuse too (it reads no lock file,
		// so an unsafe locks directory is the engine's alone).
		front bool
	}{
		{x.CacheDir, 0o770, get(m365), true},
		{x.CacheDir, 0o702, get(m365), true},
		{x.CacheDir, 0o777, statuses, true},
		{filepath.Join(x.CacheDir, "tokens"), 0o730, get(m365), true},
		{filepath.Join(x.CacheDir, "locks"), 0o707, get(force), false},
	} {
		t.Run(fmt.Sprintf("%s %#o", filepath.Base(tc.dir), tc.mode), func(t *testing.T) {
			if err := os.Chmod(tc.dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(tc.dir, 0o700)
			unsafe(t, tc.op, "writable by group or others", tc.front)
		})
	}
	t.Run("owned by another user", func(t *testing.T) {
		const nobody = 65534
		if err := os.Chown(x.CacheDir, nobody, nobody); err != nil {
			if os.Geteuid() != 0 {
				t.Skipf("not root and cannot chown: %v", err)
			}
			t.Fatal(err)
		}
		defer os.Chown(x.CacheDir, os.Geteuid(), os.Getegid())
		unsafe(t, get(m365), "owned by", true)
	})
	x.command()
	x.mustGet(m365, helper.SourceCache)
}

// A new cache directory is 0700 and its files 0600 whatever the umask.
// (Not parallel: the umask is the process's.)
func TestCacheCreatedPrivateUnderUmask0(t *testing.T) {
	x, _ := m365Home(t, emulator.Options{}, nil)
	old := syscall.Umask(0)
	_, err := x.get("m365")
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if n := cacheModes(t, x.CacheDir); n < 2 {
		t.Errorf("%d files in the cache dir", n)
	}
}
