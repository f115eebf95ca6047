// Package etcd is the fleet backend of the token cache: one server session
// per identity shared by every machine of a fleet through etcd, behind
// package cache's Store and Locker.
//
// A Fleet puts a local level (the machine's file or keyctl store, or none)
// in front of etcd:
//
//   - An identity's entry is read from the local level while that copy is
//     younger than LocalMaxAge (its Entry.CheckedAt); otherwise by a
//     linearizable etcd read, whose answer is written to the local level
//     with a new CheckedAt. A key missing in etcd (a logout elsewhere) is
//     removed locally too.
//   - Lock takes the machine's lock file first (the processes of one
//     machine queue there), then an etcd mutex on a lease of LockTTL, kept
//     alive while the holder runs and lapsing when it dies. While a Fleet
//     holds or waits for the etcd mutex of a key, reads of that key go to
//     etcd: a holder re-reads what another machine may just have renewed.
//   - Values in etcd are the file backend's encrypted items (cache.Sealer):
//     nothing in them is readable without the cache passphrase.
//
// Failures split in two. etcd unreachable (refused, no answer within
// DialTimeout, no quorum): the Fleet warns once and works on the local level
// alone for the rest of the process. etcd reachable but refusing (TLS
// verification, client certificate, RBAC, wrong passphrase for its items):
// a cache.UnavailableError, never a silent local session.
package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// Config is what a Fleet needs besides its levels.
type Config struct {
	Endpoints []string
	Prefix    string      // put before every key; "" = DefaultPrefix
	TLS       *tls.Config // nil for http:// endpoints
	Username  string      // etcd RBAC user; "" = none
	Password  string
	// DialTimeout bounds every etcd call but the lock wait: longer and the
	// cluster counts as unreachable.
	DialTimeout time.Duration
	LockTTL     time.Duration // lease of the fleet lock, whole seconds (at least 1)
	LocalMaxAge time.Duration // how long a local copy is answered without asking etcd
}

// Defaults of Config.
const (
	DefaultPrefix      = "/veeam-credential-helper/"
	DefaultDialTimeout = 2 * time.Second
	DefaultLockTTL     = 15 * time.Second
	DefaultLocalMaxAge = 30 * time.Second
)

// Fleet is a cache.Store and cache.Locker over a local level and etcd.
type Fleet struct {
	cfg       Config
	local     cache.Store  // nil: cache.local = "none"
	localLock cache.Locker // the machine's lock files
	seal      *cache.Sealer

	// Warn prints one warning line (the unreachable cluster); nil: silent.
	Warn func(msg string)
	// Now is the clock of CheckedAt; nil: time.Now.
	Now func() time.Time

	clientOnce sync.Once
	client     *clientv3.Client
	clientErr  error

	mu        sync.Mutex
	checked   bool           // the passphrase matched the fleet's check
	down      error          // set once etcd was found unreachable: local only from then on
	fleetKeys map[string]int // keys whose reads go to etcd (lock held or awaited)
	waitKeys  map[string]int // keys whose readers wait for this machine's lock file
}

// New returns a Fleet; it connects on first use. local may be nil (no
// local level); localLock serialises the machine's processes.
func New(cfg Config, local cache.Store, localLock cache.Locker, seal *cache.Sealer) *Fleet {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = DefaultLockTTL
	}
	if cfg.LocalMaxAge < 0 {
		cfg.LocalMaxAge = 0
	}
	return &Fleet{cfg: cfg, local: local, localLock: localLock, seal: seal,
		fleetKeys: map[string]int{}, waitKeys: map[string]int{}}
}

// Backend is "etcd".
func (f *Fleet) Backend() string { return cache.BackendEtcd }

// Endpoints are the configured endpoints.
func (f *Fleet) Endpoints() []string { return append([]string(nil), f.cfg.Endpoints...) }

// Close releases the connection.
func (f *Fleet) Close() error {
	if f.client != nil {
		return f.client.Close()
	}
	return nil
}

// Unlock fetches the passphrase of the fleet's items and of the local level,
// and checks it against the fleet's (see verifyPassphrase).
func (f *Fleet) Unlock() error {
	if err := f.seal.Unlock(); err != nil {
		return err
	}
	if err := f.verifyPassphrase(); err != nil {
		return err
	}
	if u, ok := f.local.(cache.Unlocker); ok {
		return u.Unlock()
	}
	return nil
}

// The fleet's passphrase check: an item sealed with the passphrase the
// fleet was first written with, beside its entries in etcd. A machine with
// another passphrase (a typo) is refused before it logs in or writes,
// instead of sealing an entry (a key not in etcd yet, or after a logout)
// that every other machine then cannot open. Removing it is a reset by
// hand (docs/fleet.md): the next passphrase then owns the fleet.
const (
	checkKey   = "passphrase-check" // not 64 hex digits: never an entry
	checkValue = "veeam-credential-helper fleet passphrase check v1"
)

// verifyPassphrase checks the passphrase once per Fleet: against the
// check when there is one; else (a fleet from before the check) against a
// few of its entries, and then writes the check; else (a new fleet) writes
// it. An unreachable cluster is no refusal: the local level works alone.
func (f *Fleet) verifyPassphrase() error {
	f.mu.Lock()
	done := f.checked
	f.mu.Unlock()
	if done || f.isDown() {
		return nil
	}
	err := f.checkPassphrase()
	if errors.Is(err, errUnreachable) {
		return nil
	}
	if err == nil {
		f.mu.Lock()
		f.checked = true
		f.mu.Unlock()
	}
	return err
}

func (f *Fleet) checkPassphrase() error {
	sealed, err := f.etcdGet(checkKey)
	switch {
	case err == nil:
		_, err := f.seal.Open(checkKey, sealed)
		if !errors.Is(err, cache.ErrNotFound) {
			return err // nil, or the wrong passphrase
		}
		// A malformed check is replaced.
		if sealed, err = f.seal.Seal(checkKey, []byte(checkValue)); err != nil {
			return err
		}
		return f.etcdPut(checkKey, sealed)
	case !errors.Is(err, cache.ErrNotFound):
		return err
	}
	entries, err := f.someEntries(3)
	if err != nil {
		return err
	}
	for key, sealed := range entries {
		if _, err := f.seal.Open(key, sealed); !errors.Is(err, cache.ErrNotFound) {
			if err != nil {
				return err
			}
			break
		}
	}
	if sealed, err = f.seal.Seal(checkKey, []byte(checkValue)); err != nil {
		return err
	}
	created, err := f.etcdCreate(checkKey, sealed)
	if err != nil || created {
		return err
	}
	// Another machine wrote it first: its passphrase must be this one.
	if sealed, err = f.etcdGet(checkKey); err != nil {
		return err
	}
	if _, err = f.seal.Open(checkKey, sealed); errors.Is(err, cache.ErrNotFound) {
		return nil // malformed: the next process replaces it
	}
	return err
}

// someEntries returns up to n identities' entries from etcd, sealed.
func (f *Fleet) someEntries(n int) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := f.call(func(ctx context.Context, c *clientv3.Client) error {
		resp, err := c.Get(ctx, f.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithLimit(int64(4*n)))
		if err != nil {
			return err
		}
		for _, kv := range resp.Kvs {
			if key := strings.TrimPrefix(string(kv.Key), f.cfg.Prefix); shared(key) && len(out) < n {
				out[key] = kv.Value
			}
		}
		return nil
	})
	return out, err
}

// etcdCreate puts val at key unless the key exists; created reports which.
func (f *Fleet) etcdCreate(key string, val []byte) (created bool, err error) {
	err = f.call(func(ctx context.Context, c *clientv3.Client) error {
		k := f.etcdKey(key)
		resp, err := c.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).Then(clientv3.OpPut(k, string(val))).Commit()
		if err == nil {
			created = resp.Succeeded
		}
		return err
	})
	return created, err
}

// ClearUndecryptable is the local level's reset (`logout --all`): without
// it a local passphrase check written with a mistyped passphrase would
// refuse the right one for ever. Items in etcd are the logouts' business.
func (f *Fleet) ClearUndecryptable() (int, error) {
	c, ok := f.local.(interface{ ClearUndecryptable() (int, error) })
	if !ok {
		return 0, nil
	}
	return c.ClearUndecryptable()
}

func (f *Fleet) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// shared reports whether key is an identity's entry (cache.Key: 64 hex
// digits), which the fleet shares. Other items (a secret stored by
// `login`, "<key>.password") stay on the machine.
func shared(key string) bool {
	if len(key) != 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (f *Fleet) etcdKey(key string) string { return f.cfg.Prefix + key }
func (f *Fleet) lockKey(key string) string { return f.cfg.Prefix + "lock/" + key }
func (f *Fleet) isDown() bool              { f.mu.Lock(); defer f.mu.Unlock(); return f.down != nil }
func (f *Fleet) mode(key string) (fleet, wait bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fleetKeys[key] > 0, f.waitKeys[key] > 0
}

func (f *Fleet) mark(m map[string]int, key string, d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m[key] += d; m[key] <= 0 {
		delete(m, key)
	}
}

var errNoLocal = &cache.UnavailableError{Msg: `cache.local = "none" keeps nothing on this machine: give the secret with password_env, password_file or password_command`}

// Get returns key's item: the local copy while it is young, else etcd's
// (see the package comment).
func (f *Fleet) Get(key string) ([]byte, error) {
	if !shared(key) {
		if f.local == nil {
			return nil, cache.ErrNotFound
		}
		return f.local.Get(key)
	}
	fleet, wait := f.mode(key)
	if !fleet {
		b, young, err := f.localGet(key)
		if err != nil && !errors.Is(err, cache.ErrNotFound) {
			return nil, err
		}
		if young {
			return b, nil
		}
		if wait {
			// This machine's lock holder is asking etcd: its answer lands here.
			return nil, cache.ErrNotFound
		}
	}
	if f.isDown() {
		return f.localAny(key)
	}
	sealed, err := f.etcdGet(key)
	switch {
	case errors.Is(err, errUnreachable):
		return f.localAny(key)
	case errors.Is(err, cache.ErrNotFound):
		// Gone from the fleet (a logout elsewhere): gone here too.
		if f.local != nil {
			if err := f.local.Remove(key); err != nil {
				return nil, err
			}
		}
		return nil, cache.ErrNotFound
	case err != nil:
		return nil, err
	}
	data, err := f.seal.Open(key, sealed)
	if err != nil {
		return nil, err
	}
	return f.localPut(key, data)
}

// localGet reads the local copy and tells whether it is young.
func (f *Fleet) localGet(key string) ([]byte, bool, error) {
	if f.local == nil {
		return nil, false, cache.ErrNotFound
	}
	b, err := f.local.Get(key)
	if err != nil {
		return nil, false, err
	}
	e, err := cache.DecodeEntry(b)
	if err != nil {
		return b, false, nil
	}
	age := f.now().Sub(e.CheckedAt)
	return b, !e.CheckedAt.IsZero() && age >= 0 && age < f.cfg.LocalMaxAge, nil
}

// localAny is the local copy whatever its age: etcd is unreachable.
func (f *Fleet) localAny(key string) ([]byte, error) {
	if f.local == nil {
		return nil, cache.ErrNotFound
	}
	return f.local.Get(key)
}

// localPut writes data to the local level stamped CheckedAt now, and
// returns what it wrote (data itself when it is not an entry).
func (f *Fleet) localPut(key string, data []byte) ([]byte, error) {
	e, err := cache.DecodeEntry(data)
	if err != nil {
		return data, nil // not ours to stamp: the caller treats it as a miss
	}
	e.CheckedAt = f.now()
	b, err := cache.EncodeEntry(e)
	if err != nil {
		return nil, err
	}
	if f.local != nil {
		if err := f.local.Set(key, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Set writes key's item to etcd, then to the local level.
func (f *Fleet) Set(key string, data []byte) error {
	if !shared(key) {
		if f.local == nil {
			return errNoLocal
		}
		return f.local.Set(key, data)
	}
	if !f.isDown() {
		e, err := cache.DecodeEntry(data)
		if err == nil {
			// The stamp is the local copy's business.
			e.CheckedAt = time.Time{}
			if data, err = cache.EncodeEntry(e); err != nil {
				return err
			}
		}
		if err := f.verifyPassphrase(); err != nil {
			return err
		}
		sealed, err := f.seal.Seal(key, data)
		if err != nil {
			return err
		}
		if err := f.etcdPut(key, sealed); err != nil && !errors.Is(err, errUnreachable) {
			return err
		}
	}
	_, err := f.localPut(key, data)
	return err
}

// Remove deletes key in etcd and on this machine.
func (f *Fleet) Remove(key string) error {
	if shared(key) && !f.isDown() {
		if err := f.etcdDelete(key); err != nil && !errors.Is(err, errUnreachable) {
			return err
		}
	}
	if f.local == nil {
		return nil
	}
	return f.local.Remove(key)
}

// FleetGet reads key's item from etcd only (status): the decrypted item,
// cache.ErrNotFound, or an error (unreachable or refusing).
func (f *Fleet) FleetGet(key string) ([]byte, error) {
	if err := f.downErr(); err != nil {
		return nil, err
	}
	sealed, err := f.etcdGet(key)
	if err != nil {
		return nil, err
	}
	return f.seal.Open(key, sealed)
}

func (f *Fleet) downErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

// connect makes the client once. clientv3.New dials lazily; with a user
// it authenticates, which may fail like any call.
func (f *Fleet) connect() (*clientv3.Client, error) {
	f.clientOnce.Do(func() {
		f.client, f.clientErr = clientv3.New(clientv3.Config{
			Endpoints:   f.cfg.Endpoints,
			TLS:         f.cfg.TLS,
			Username:    f.cfg.Username,
			Password:    f.cfg.Password,
			DialTimeout: f.cfg.DialTimeout,
			// The client's own log lines would reach the user's stderr.
			Logger: zap.NewNop(),
		})
		if f.clientErr != nil {
			f.clientErr = f.classify(f.clientErr)
		}
	})
	return f.client, f.clientErr
}

// call runs op with a context bounded by DialTimeout and classifies its error.
// A call still running after refusedCheckAfter checks whether every
// endpoint refuses connections (the cluster is down, its hosts up) or
// refuses us (TLS): either is final, and the call ends there instead of
// at DialTimeout.
func (f *Fleet) call(op func(context.Context, *clientv3.Client) error) error {
	if err := f.downErr(); err != nil {
		return err
	}
	c, err := f.connect()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.cfg.DialTimeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- op(ctx, c) }()
	check := time.NewTimer(refusedCheckAfter)
	defer check.Stop()
	probed := false
	select {
	case err = <-errc:
	case <-check.C:
		if allRefused(ctx, f.cfg.Endpoints) {
			cancel()
			<-errc
			u := &unreachableError{cause: errors.New("connection refused")}
			f.setDown(u)
			return u
		}
		if rerr := f.probe(); rerr != nil {
			cancel()
			<-errc
			return rerr
		}
		probed = true
		err = <-errc
	}
	if err != nil {
		return f.classifyProbed(err, probed)
	}
	return nil
}

func (f *Fleet) etcdGet(key string) ([]byte, error) {
	var val []byte
	err := f.call(func(ctx context.Context, c *clientv3.Client) error {
		resp, err := c.Get(ctx, f.etcdKey(key))
		if err == nil && len(resp.Kvs) > 0 {
			val = resp.Kvs[0].Value
		}
		return err
	})
	if err == nil && val == nil {
		return nil, cache.ErrNotFound
	}
	return val, err
}

func (f *Fleet) etcdPut(key string, val []byte) error {
	return f.call(func(ctx context.Context, c *clientv3.Client) error {
		_, err := c.Put(ctx, f.etcdKey(key), string(val))
		return err
	})
}

func (f *Fleet) etcdDelete(key string) error {
	return f.call(func(ctx context.Context, c *clientv3.Client) error {
		_, err := c.Delete(ctx, f.etcdKey(key))
		return err
	})
}

// setDown records that etcd is unreachable and warns once.
func (f *Fleet) setDown(err error) {
	f.mu.Lock()
	first := f.down == nil
	if first {
		f.down = err
	}
	f.mu.Unlock()
	if first && f.Warn != nil {
		f.Warn(fmt.Sprintf("etcd at %s is unreachable (%v): using this machine's token cache only", strings.Join(f.cfg.Endpoints, ", "), errors.Unwrap(err)))
	}
}
