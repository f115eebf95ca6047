//go:build windows

package cache

import (
	"errors"
	"io/fs"
	"os"
)

// openNonBlock: Windows has no FIFOs in the file system namespace.
const openNonBlock = 0

// EnsureDir creates dir if missing. Windows ACLs are inherited from the
// user's profile directory; there are no mode bits to check.
func EnsureDir(dir string) error {
	if dir == "" {
		return unavailable(nil, "no cache directory: set cache.dir or LocalAppData")
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
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
	return nil
}
