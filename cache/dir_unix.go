//go:build unix

package cache

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openNonBlock opens a FIFO planted at an item's path without waiting for a writer.
const openNonBlock = syscall.O_NONBLOCK

// EnsureDir creates dir 0700 if missing and refuses (UnavailableError) a dir
// that is writable by group or others or not owned by the current user.
func EnsureDir(dir string) error {
	if dir == "" {
		return unavailable(nil, "no cache directory: set cache.dir or XDG_CACHE_HOME")
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return unavailable(err, "cannot create the cache directory")
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return unavailable(err, "cannot create the cache directory")
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return unavailable(err, "cannot use the cache directory")
	}
	if !fi.IsDir() {
		return unavailable(nil, "cache directory %s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return unavailable(nil, "cache directory %s is owned by uid %d, not by the current user (uid %d)", dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return unavailable(nil, "cache directory %s is writable by group or others (mode %#o): run chmod 700 on it", dir, fi.Mode().Perm())
	}
	return nil
}
