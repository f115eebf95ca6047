package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// fileLocker keeps one lock file per key in <dir>/locks. Lock files are
// never deleted: removing one that another process has open (or is about to
// lock) would let two processes hold "the" lock at once. A stale file is
// harmless because the kernel drops the lock with the last descriptor.
type fileLocker struct {
	dir string
}

// NewFileLocker returns a Locker over <dir>/locks/<key>.lock: flock(LOCK_EX)
// on unix, LockFileEx on Windows. Lock files are 0600.
func NewFileLocker(dir string) Locker { return &fileLocker{dir: dir} }

const (
	lockPollMin = time.Millisecond
	lockPollMax = 20 * time.Millisecond
)

func (l *fileLocker) Lock(ctx context.Context, key string) (func(), error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ld := locksDir(l.dir)
	if _, err := os.Stat(ld); err != nil {
		if err := EnsureDir(l.dir); err != nil {
			return nil, err
		}
	}
	if err := EnsureDir(ld); err != nil {
		return nil, err
	}
	f, err := openLockFile(filepath.Join(ld, key+".lock"))
	if err != nil {
		return nil, unavailable(err, "cannot open the cache lock file")
	}
	// Non-blocking attempts with a short backoff: a blocking flock cannot be
	// cancelled by ctx. The wait after a release is at most lockPollMax.
	delay := lockPollMin
	var timer *time.Timer
	for {
		ok, err := tryLockFile(f)
		if err != nil {
			f.Close()
			return nil, unavailable(err, "cannot lock the cache lock file")
		}
		if ok {
			var once sync.Once
			return func() {
				once.Do(func() {
					unlockFile(f)
					f.Close()
				})
			}, nil
		}
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for the cache lock: %w", ctx.Err())
		case <-timer.C:
		}
		if delay *= 2; delay > lockPollMax {
			delay = lockPollMax
		}
	}
}
