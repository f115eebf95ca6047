package cache

import (
	"errors"
	"io/fs"
	"os"
)

// EnsureDir creates dir if missing (makeDir) and refuses (UnavailableError)
// one that is not a directory or that checkDir finds open to other users.
func EnsureDir(dir string) error {
	if dir == "" {
		return unavailable(nil, "no cache directory: set cache.dir or "+dirVariable)
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := makeDir(dir); err != nil {
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
	return checkDir(dir, fi)
}
