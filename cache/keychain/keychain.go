// Package keychain opens every cache backend, the OS keychains included:
// secret-service, kwallet, pass, keychain and wincred through
// github.com/99designs/keyring, and "auto", which tries the platform's
// keychain before the file backend. File and keyctl are package cache's.
//
// It is the heavy half of the cache: linking it links keyring (D-Bus,
// jose2go, ...). A binary that needs only the file and keyctl backends
// imports package cache alone and treats cache.ErrNeedsKeychain as "ask a
// binary that links this package".
package keychain

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/99designs/keyring"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/cache/keychain/internal/dbusguard"
)

func init() {
	// keyring's init (a dependency of this package) has run by now: put
	// DBUS_SESSION_BUS_ADDRESS back as the process got it.
	dbusguard.Restore()
}

// Open returns the configured store, any backend (cache.Open is called for
// file and keyctl). "auto" (or "") tries cache.KeychainCandidates in order and
// falls back to the file backend. Like cache.Open it is cheap and resolves
// nothing secret.
func Open(cfg cache.Config) (cache.Store, error) {
	if cfg.ServiceName == "" {
		cfg.ServiceName = cache.DefaultServiceName
	}
	backend := strings.ToLower(strings.TrimSpace(cfg.Backend))
	switch backend {
	case "", cache.BackendAuto:
		for _, b := range cache.KeychainCandidates() {
			if st, err := openKeyring(cfg, b); err == nil {
				return st, nil
			}
		}
		cfg.Backend = cache.BackendFile
		return cache.Open(cfg)
	case cache.BackendSecretService, cache.BackendKWallet, cache.BackendPass, cache.BackendKeychain, cache.BackendWinCred:
		return openKeyring(cfg, backend)
	default:
		return cache.Open(cfg)
	}
}

func unavailable(err error, format string, args ...any) error {
	return &cache.UnavailableError{Msg: fmt.Sprintf(format, args...), Err: err}
}

// keyringStore wraps a 99designs/keyring backend.
type keyringStore struct {
	kr      keyring.Keyring
	backend string
}

func (s *keyringStore) Backend() string { return s.backend }

func (s *keyringStore) Unlock() error { return nil }

func (s *keyringStore) Get(key string) ([]byte, error) {
	if err := cache.CheckKey(key); err != nil {
		return nil, err
	}
	it, err := s.kr.Get(key)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return nil, cache.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err, "cannot read from the %s keyring", s.backend)
	}
	if it.Data == nil {
		return []byte{}, nil
	}
	return it.Data, nil
}

func (s *keyringStore) Set(key string, data []byte) error {
	if err := cache.CheckKey(key); err != nil {
		return err
	}
	err := s.kr.Set(keyring.Item{
		Key:                         key,
		Data:                        data,
		Label:                       "veeam-credential-helper " + key,
		Description:                 "veeam-credential-helper token cache",
		KeychainNotSynchronizable:   true,
		KeychainNotTrustApplication: false,
	})
	if err != nil {
		return unavailable(err, "cannot write to the %s keyring", s.backend)
	}
	return nil
}

func (s *keyringStore) Remove(key string) error {
	if err := cache.CheckKey(key); err != nil {
		return err
	}
	err := s.kr.Remove(key)
	if err == nil || errors.Is(err, keyring.ErrKeyNotFound) {
		return nil
	}
	// Backends disagree on a missing key (ErrKeyNotFound, an os error, a
	// D-Bus error): a key that is not there was removed.
	if _, gerr := s.kr.Get(key); errors.Is(gerr, keyring.ErrKeyNotFound) {
		return nil
	}
	return unavailable(err, "cannot remove from the %s keyring", s.backend)
}

func keyringConfig(cfg cache.Config, b keyring.BackendType) keyring.Config {
	return keyring.Config{
		AllowedBackends:                []keyring.BackendType{b},
		ServiceName:                    cfg.ServiceName,
		KeychainTrustApplication:       true,
		KeychainSynchronizable:         false,
		KeychainAccessibleWhenUnlocked: true,
		KWalletAppID:                   cfg.ServiceName,
		KWalletFolder:                  cfg.ServiceName,
		LibSecretCollectionName:        cfg.ServiceName,
		PassPrefix:                     cfg.ServiceName,
		WinCredPrefix:                  cfg.ServiceName,
	}
}

// openKeyring opens one named keyring backend; keyring.Open hides why a
// backend failed (it only logs it), so the message says what is likely.
func openKeyring(cfg cache.Config, backend string) (cache.Store, error) {
	b := keyring.BackendType(backend)
	if (b == keyring.SecretServiceBackend || b == keyring.KWalletBackend) && runtime.GOOS == "linux" && !dbusguard.SessionAvailable() {
		return nil, unavailable(nil, "cache backend %s is not available: no D-Bus session (DBUS_SESSION_BUS_ADDRESS is empty)", backend)
	}
	kr, err := keyring.Open(keyringConfig(cfg, b))
	if err != nil {
		if b == keyring.KeychainBackend && runtime.GOOS == "darwin" && !cgoEnabled {
			// keyring's keychain backend is built only with cgo.
			return nil, unavailable(nil, "cache backend keychain is not in this build (built with CGO_ENABLED=0): use a cgo build on macOS, or backend = \"file\"")
		}
		return nil, unavailable(nil, "cache backend %s is not available on this system", backend)
	}
	return &keyringStore{kr: kr, backend: backend}, nil
}
