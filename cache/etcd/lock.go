package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// How often a waiter for the fleet lock reads the entry again besides when
// the watch on it fires: the watch may start after the holder's write.
const (
	waitPollMin = 10 * time.Millisecond
	waitPollMax = 100 * time.Millisecond
)

// Lock takes key's lock on this machine, then in the fleet.
func (f *Fleet) Lock(ctx context.Context, key string) (func(), error) {
	unlock, _, err := f.LockOr(ctx, key, nil)
	return unlock, err
}

// LockOr is Lock that gives up, with locked false, as soon as ready
// reports true: another process of this machine, or another machine, put a
// fresh entry that needs no lock to be answered (see cache.LockOr). While
// this machine's lock file is held by another process, ready reads only the
// local level (that process writes it when it is done); while the fleet
// lock is awaited, ready reads etcd.
func (f *Fleet) LockOr(ctx context.Context, key string, ready func() bool) (func(), bool, error) {
	var localReady func() bool
	if ready != nil {
		localReady = func() bool {
			f.mark(f.waitKeys, key, 1)
			defer f.mark(f.waitKeys, key, -1)
			return ready()
		}
	}
	unlockLocal, locked, err := cache.LockOr(ctx, f.localLock, key, localReady)
	if err != nil || !locked {
		return unlockLocal, locked, err
	}
	if !shared(key) || f.isDown() {
		return unlockLocal, true, nil
	}
	f.mark(f.fleetKeys, key, 1)
	var once sync.Once
	release := func() {
		once.Do(func() {
			f.mark(f.fleetKeys, key, -1)
			unlockLocal()
		})
	}
	unlockFleet, locked, err := f.fleetLock(ctx, key, ready)
	switch {
	case errors.Is(err, errUnreachable):
		return release, true, nil // warned: this machine alone
	case err != nil:
		release()
		return nil, false, err
	case !locked:
		release()
		return func() {}, false, nil
	}
	var both sync.Once
	return func() {
		both.Do(func() {
			unlockFleet()
			release()
		})
	}, true, nil
}

// fleetLock takes the etcd mutex of key on a lease of LockTTL that a
// session keeps alive until unlock (which revokes it: the mutex key goes
// with it). A holder that dies stops the keep-alive; its lease lapses after
// LockTTL and the next waiter proceeds.
func (f *Fleet) fleetLock(ctx context.Context, key string, ready func() bool) (unlock func(), locked bool, err error) {
	// A lease can lapse before its first keep-alive when this process
	// stalls longer than LockTTL right after the grant: take a new one.
	for attempt := 1; ; attempt++ {
		unlock, locked, err = f.fleetLockOnce(ctx, key, ready)
		if !errors.Is(err, rpctypes.ErrLeaseNotFound) || attempt == 3 {
			return unlock, locked, f.waitError(ctx, err)
		}
	}
}

func (f *Fleet) fleetLockOnce(ctx context.Context, key string, ready func() bool) (unlock func(), locked bool, err error) {
	c, err := f.connect()
	if err != nil {
		return nil, false, err
	}
	ttl := int64((f.cfg.LockTTL + time.Second - 1) / time.Second)
	gctx, cancel := context.WithTimeout(ctx, f.cfg.DialTimeout)
	lease, err := c.Grant(gctx, max(ttl, 1))
	cancel()
	if err != nil {
		return nil, false, err
	}
	life, end := context.WithCancel(context.Background())
	sess, err := concurrency.NewSession(c, concurrency.WithLease(lease.ID), concurrency.WithTTL(int(max(ttl, 1))), concurrency.WithContext(life))
	revoke := func() {
		if sess != nil {
			sess.Orphan()
		}
		rctx, cancel := context.WithTimeout(context.Background(), f.cfg.DialTimeout)
		c.Revoke(rctx, lease.ID) // failing, the lease lapses after LockTTL
		cancel()
		end()
	}
	if err != nil {
		revoke()
		return nil, false, err
	}
	m := concurrency.NewMutex(sess, f.lockKey(key))

	lockCtx, stopLock := context.WithCancel(ctx)
	defer stopLock()
	done := make(chan error, 1)
	go func() { done <- m.Lock(lockCtx) }()
	var watch clientv3.WatchChan
	if ready != nil {
		watch = c.Watch(clientv3.WithRequireLeader(lockCtx), f.etcdKey(key))
	}
	delay := waitPollMin
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				revoke()
				return nil, false, err
			}
			return revoke, true, nil
		case _, ok := <-watch:
			if !ok {
				watch = nil
			}
		case <-timer.C:
			delay = min(2*delay, waitPollMax)
			timer.Reset(delay)
		}
		if ready != nil && ready() {
			stopLock()
			<-done
			revoke()
			return func() {}, false, nil
		}
	}
}

// waitError is the error of a lock step: the caller's own deadline (the
// profile's timeout while another machine logs in) is not an outage.
func (f *Fleet) waitError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*cache.UnavailableError); ok {
		return err // connect's, classified
	}
	if errors.Is(err, errUnreachable) {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the fleet lock: %w", ctx.Err())
	}
	return f.classify(err)
}
