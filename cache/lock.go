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
	lockPollMax = 10 * time.Millisecond
)

func (l *fileLocker) Lock(ctx context.Context, key string) (func(), error) {
	unlock, _, err := l.LockOr(ctx, key, nil)
	return unlock, err
}

// LockOr waits for key's lock as l.Lock does, but gives up as soon as
// ready reports true (it is asked between attempts while another process
// holds the lock), with locked false and no error: the holder did what the
// lock was wanted for, typically writing a fresh token that reading needs
// no lock for. Waiters then finish together right after the holder's write
// instead of taking the lock one after another. A ReadyLocker does it its
// own way; a Locker of another kind just locks.
func LockOr(ctx context.Context, l Locker, key string, ready func() bool) (unlock func(), locked bool, err error) {
	if rl, ok := l.(ReadyLocker); ok {
		return rl.LockOr(ctx, key, ready)
	}
	unlock, err = l.Lock(ctx, key)
	return unlock, err == nil, err
}

// ReadyLocker is a Locker with its own LockOr (the lock files', the fleet
// backend's).
type ReadyLocker interface {
	Locker
	LockOr(ctx context.Context, key string, ready func() bool) (unlock func(), locked bool, err error)
}

func (l *fileLocker) LockOr(ctx context.Context, key string, ready func() bool) (func(), bool, error) {
	if err := CheckKey(key); err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	ld := locksDir(l.dir)
	if _, err := os.Stat(ld); err != nil {
		if err := EnsureDir(l.dir); err != nil {
			return nil, false, err
		}
	}
	if err := EnsureDir(ld); err != nil {
		return nil, false, err
	}
	f, err := openLockFile(filepath.Join(ld, key+".lock"))
	if err != nil {
		return nil, false, unavailable(err, "cannot open the cache lock file")
	}
	// Non-blocking attempts with a short backoff: a blocking flock cannot be
	// cancelled by ctx. The wait after a release is at most lockPollMax.
	delay := lockPollMin
	var timer *time.Timer
	for {
		ok, err := tryLockFile(f)
		if err != nil {
			f.Close()
			return nil, false, unavailable(err, "cannot lock the cache lock file")
		}
		if ok {
			var once sync.Once
			return func() {
				once.Do(func() {
					unlockFile(f)
					f.Close()
				})
			}, true, nil
		}
		if ready != nil && ready() {
			if timer != nil {
				timer.Stop()
			}
			f.Close()
			return func() {}, false, nil
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
			return nil, false, fmt.Errorf("waiting for the cache lock: %w", ctx.Err())
		case <-timer.C:
		}
		if delay *= 2; delay > lockPollMax {
			delay = lockPollMax
		}
	}
}
