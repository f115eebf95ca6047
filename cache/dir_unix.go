//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"syscall"
)

// openNonBlock opens a FIFO planted at an item's path without waiting for a writer.
const openNonBlock = syscall.O_NONBLOCK

// dirVariable is the environment variable the default cache directory is under.
const dirVariable = "XDG_CACHE_HOME"

// makeDir creates dir 0700, whatever the umask.
func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// checkDir refuses a directory that is writable by group or others or not
// owned by the current user.
func checkDir(dir string, fi os.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		// Usually a shared directory such as /tmp (chmod cannot help, a directory of one's own does), or
		// the default one under another user's HOME (sudo keeping HOME).
		fix := "set cache.dir to a directory of your own (one that does not exist yet is created 0700)"
		if def := DefaultDir(); def == "" || filepath.Clean(def) == filepath.Clean(dir) {
			fix = "run as its owner, or set cache.dir or " + dirVariable + " to a directory of your own"
		} else {
			fix += ", or leave it unset for " + def
		}
		return unavailable(nil, "cache directory %s is owned by uid %d, not by the current user (uid %d): %s", dir, st.Uid, os.Geteuid(), fix)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return unavailable(nil, "cache directory %s is writable by group or others (mode %#o): run chmod 700 on it", dir, fi.Mode().Perm())
	}
	return nil
}
