package cache

import (
	"errors"
	"runtime"

	"github.com/99designs/keyring"

	"github.com/veeam-tools/veeam-credential-helper/cache/internal/dbusguard"
)

// keyringStore wraps a 99designs/keyring backend other than the file one.
type keyringStore struct {
	kr      keyring.Keyring
	backend string
}

func (s *keyringStore) Backend() string { return s.backend }

func (s *keyringStore) Unlock() error { return nil }

func (s *keyringStore) Get(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	it, err := s.kr.Get(key)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return nil, ErrNotFound
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
	if err := checkKey(key); err != nil {
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
	if err := checkKey(key); err != nil {
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

func keyringConfig(cfg Config, b keyring.BackendType) keyring.Config {
	return keyring.Config{
		AllowedBackends:                []keyring.BackendType{b},
		ServiceName:                    cfg.ServiceName,
		KeychainTrustApplication:       true,
		KeychainSynchronizable:         false,
		KeychainAccessibleWhenUnlocked: true,
		KeyCtlScope:                    "user",
		// Possessor and user: all; group and others: nothing. Without the
		// user bits a process whose session keyring is not linked to the
		// user keyring (containers, some sudo/ssh setups) cannot find the
		// named keyring and would recreate it, losing every item.
		KeyCtlPerm:              keyctlPerm(),
		KWalletAppID:            cfg.ServiceName,
		KWalletFolder:           cfg.ServiceName,
		LibSecretCollectionName: cfg.ServiceName,
		PassPrefix:              cfg.ServiceName,
		WinCredPrefix:           cfg.ServiceName,
	}
}

// openKeyring opens one named keyring backend; keyring.Open hides why a
// backend failed (it only logs it), so the message says what is likely.
func openKeyring(cfg Config, backend string) (Store, error) {
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

// openAuto: the platform keychain where one answers, else the file backend.
// On Linux secret-service / kwallet are tried only with a D-Bus session
// address in the environment, so a headless run never touches D-Bus.
func openAuto(cfg Config) (Store, error) {
	var candidates []string
	switch runtime.GOOS {
	case "darwin":
		candidates = []string{BackendKeychain}
	case "windows":
		candidates = []string{BackendWinCred}
	case "linux":
		if dbusguard.SessionAvailable() {
			candidates = []string{BackendSecretService, BackendKWallet}
		}
	}
	for _, b := range candidates {
		if st, err := openKeyring(cfg, b); err == nil {
			return st, nil
		}
	}
	return openFile(cfg)
}
