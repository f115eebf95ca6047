//go:build unix

package cache

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func openLockFile(path string) (*os.File, error) {
	// O_NOFOLLOW: never lock (or create) through a planted symlink.
	// Go opens with O_CLOEXEC: children (passphrase/password commands)
	// do not inherit, and so cannot prolong, the lock.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func tryLockFile(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}

func unlockFile(f *os.File) { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN) }
