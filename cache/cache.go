// Package cache is the token store of veeam-credential-helper: the entry
// codec, the identity key, the file backend (99designs/keyring's file format,
// reimplemented), the keyctl backend (keyring's layout in the Linux kernel
// keyring, reimplemented), and a cross-process lock per key.
//
// It is light on purpose: it links neither 99designs/keyring nor jose2go,
// so that a small binary can answer cache hits. The OS keychain
// backends (secret-service, kwallet, pass, keychain, wincred) and the "auto"
// choice that may pick one are in package cache/keychain; Open here returns
// ErrNeedsKeychain for them.
//
// The engine talks to two small interfaces, Store and Locker, so that a
// shared backend (a distributed store with lease-based locks) can replace the
// local ones without touching the flow.
package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Entry is what one identity's cache holds.
type Entry struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	ExpiresAt    time.Time `json:"expires_at"`
	Cookies      string    `json:"cookies,omitempty"` // VB365 antiforgery cookie(s), "name=value; name2=value2"
	IssuedAt     time.Time `json:"issued_at,omitzero"`
	// CheckedAt is when the fleet store (etcd) last confirmed this entry,
	// set only in a machine's local copy: the front answers that copy
	// while it is younger than cache.local_max_age. Zero elsewhere.
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// FreshFor reports whether e has an access token good at now for more
// than need: the one rule of a cache hit, the front's and the engine's.
// A server whose tokens live no longer than need would be asked for a new
// one on every call (a refresh storm): such a token is kept while half its
// lifetime is left, so it is renewed at most twice a lifetime.
func (e Entry) FreshFor(need time.Duration, now time.Time) bool {
	if life := e.ExpiresAt.Sub(e.IssuedAt); !e.IssuedAt.IsZero() && life > 0 && life <= need {
		need = life / 2
	}
	return e.AccessToken != "" && e.ExpiresAt.Sub(now) > need
}

// entryVersion is the "v" of the encoded entry.
const entryVersion = 1

// wireEntry is the encoded entry: the version, then Entry's fields.
type wireEntry struct {
	V *int `json:"v"` // nil when "v" is missing
	Entry
}

// EncodeEntry serialises e as versioned JSON ({"v":1,...}).
func EncodeEntry(e Entry) ([]byte, error) {
	v := entryVersion
	b, err := json.Marshal(wireEntry{V: &v, Entry: e})
	if err != nil {
		// Never quote the value: only times can fail here.
		return nil, errors.New("cannot encode the cache entry")
	}
	return b, nil
}

// DecodeEntry parses what EncodeEntry wrote. Anything else (garbage, another
// version, trailing data) is an error whose text never quotes the input.
func DecodeEntry(b []byte) (Entry, error) {
	var w wireEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return Entry{}, errors.New("cache entry is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, errors.New("cache entry has trailing data")
	}
	if w.V == nil {
		return Entry{}, errors.New("cache entry has no version")
	}
	if *w.V != entryVersion {
		return Entry{}, fmt.Errorf("cache entry version %d is not supported", *w.V)
	}
	return w.Entry, nil
}

// Key is the hex SHA-256 of the identity fields. Every field is length
// prefixed, so no two tuples share a key ("ab","c" vs "a","bc").
func Key(product, url, username, grant, clientID, apiVersion string) string {
	h := sha256.New()
	h.Write([]byte("veeam-credential-helper/cache-key/v1\x00"))
	var n [8]byte
	for _, f := range []string{product, url, username, grant, clientID, apiVersion} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrNotFound is a miss: no item under the key, or one that is not a
// well-formed item (the next Set overwrites it).
var ErrNotFound = errors.New("not in cache")

// ErrNeedsKeychain is what Open returns for a backend that only package
// cache/keychain opens: an OS keychain, or "auto" where one is a candidate
// (see KeychainCandidates). It is not an UnavailableError: the store may well
// be available, just not through this package.
var ErrNeedsKeychain = errors.New("cache backend needs the OS keychain support (package cache/keychain)")

// ErrUnavailable matches every *UnavailableError with errors.Is.
var ErrUnavailable = errors.New("token cache unavailable")

// UnavailableError is every "the store cannot be used" condition: no
// passphrase, wrong passphrase, keyring locked, backend not available,
// insecure cache dir. The CLI maps it to exit 6. Its text is one line and
// never contains a secret.
type UnavailableError struct {
	Msg string
	Err error
}

func (e *UnavailableError) Error() string {
	s := e.Msg
	if e.Err != nil {
		if s != "" {
			s += ": "
		}
		s += e.Err.Error()
	}
	if s == "" {
		s = ErrUnavailable.Error()
	}
	return oneLine(s)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// IsUnavailable reports whether err (or anything it wraps) is an UnavailableError.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

func unavailable(err error, format string, args ...any) error {
	return &UnavailableError{Msg: fmt.Sprintf(format, args...), Err: err}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:497] + "..."
	}
	return s
}

// Store is the small interface the engine uses; a shared backend implements it too.
type Store interface {
	// Get returns the item's bytes; ErrNotFound when it is missing or is not
	// a well-formed item (garbage, truncated file): a miss, never a crash.
	Get(key string) ([]byte, error)
	// Set stores data atomically (file backend: temp file + rename, 0600).
	Set(key string, data []byte) error
	// Remove deletes only that key; a missing key is not an error.
	Remove(key string) error
	// Backend names the backend: "file", "keyctl", "secret-service", ...
	Backend() string
}

// Has reports whether st holds an item under key: without reading it where
// the store can tell (the file store: no key derivation, no decryption),
// else by Get.
func Has(st Store, key string) bool {
	if h, ok := st.(interface{ Has(key string) bool }); ok {
		return h.Has(key)
	}
	_, err := st.Get(key)
	return err == nil
}

// Unlocker is implemented by stores that need a secret before they can
// write (the file backend's passphrase). Unlock gets it (env, command or
// prompt) without touching any item, so the engine can fail with exit 6
// before a costly grant rather than after it. Every Store of this package
// implements it; it is a no-op where nothing is needed.
type Unlocker interface {
	Unlock() error
}

// Locker serialises read → grant → write per key across processes.
type Locker interface {
	// Lock waits until the key's lock is taken or ctx is done. The kernel
	// releases the lock if the process dies.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Backend names accepted in Config.Backend.
const (
	BackendAuto          = "auto"
	BackendFile          = "file"
	BackendKeyctl        = "keyctl"
	BackendSecretService = "secret-service"
	BackendKWallet       = "kwallet"
	BackendPass          = "pass"
	BackendKeychain      = "keychain"
	BackendWinCred       = "wincred"
	// BackendEtcd is the fleet backend (package cache/etcd), in front of a
	// local level: keyctl, file or none.
	BackendEtcd = "etcd"
	// LocalNone is cache.local = "none": no local level in front of etcd.
	LocalNone = "none"
)

// DefaultPassphraseEnv is the default of Config.PassphraseEnv.
const DefaultPassphraseEnv = "VEEAM_CREDENTIAL_HELPER_PASSPHRASE"

// DefaultServiceName is the default of Config.ServiceName.
const DefaultServiceName = "veeam-credential-helper"

// Config selects and configures a backend.
type Config struct {
	Backend           string   // auto | file | keyctl | secret-service | kwallet | pass | keychain | wincred ("" = auto)
	Dir               string   // "" = DefaultDir()
	PassphraseEnv     string   // default "VEEAM_CREDENTIAL_HELPER_PASSPHRASE"
	PassphraseCommand []string // run (no shell) to print the passphrase on stdout, trailing newline trimmed
	Interactive       bool     // may prompt on the terminal for the passphrase (only when stdin is a terminal)
	ServiceName       string   // keyring service name, default "veeam-credential-helper"
	ItemJSON          ItemJSON // the file backend's JSON reader; nil: encoding/json
	// CommandTimeout bounds PassphraseCommand (default DefaultCommandTimeout);
	// CommandEnvDrop names variables it must not see (the configured secrets).
	CommandTimeout time.Duration
	CommandEnvDrop []string
}

// DefaultCommandTimeout bounds passphrase_command when Config sets no timeout.
const DefaultCommandTimeout = 30 * time.Second

// DefaultDir is $XDG_CACHE_HOME/veeam-credential-helper, else
// ~/.cache/veeam-credential-helper (the OS cache dir on macOS and Windows).
func DefaultDir() string {
	if d, err := os.UserCacheDir(); err == nil && d != "" {
		return filepath.Join(d, "veeam-credential-helper")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".cache", "veeam-credential-helper")
	}
	return ""
}

// tokensDir is where the file backend keeps its items.
func tokensDir(dir string) string { return filepath.Join(dir, "tokens") }

// locksDir is where NewFileLocker keeps its lock files.
func locksDir(dir string) string { return filepath.Join(dir, "locks") }

// CheckKey accepts what Key returns and names derived from it ("<key>.password"):
// 1 to 200 characters of [A-Za-z0-9._-], starting with a letter or digit.
// Keys become file names, so nothing else gets through.
func CheckKey(key string) error {
	if key == "" || len(key) > 200 {
		return fmt.Errorf("invalid cache key (length %d)", len(key))
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return errors.New("invalid cache key: only letters, digits, '.', '_' and '-' are allowed")
		}
	}
	return nil
}

// Open returns the configured store. It is cheap: it checks (or creates)
// the cache directory for the file backend and resolves nothing secret;
// the passphrase is fetched and keys derived only by Get/Set/Unlock.
//
// It opens "file" and "keyctl", and "auto" where KeychainCandidates is empty
// (as the file backend). For the keychain backends, and for "auto" where a
// keychain is a candidate, it returns an error matching ErrNeedsKeychain:
// keychain.Open handles every backend.
func Open(cfg Config) (Store, error) {
	if cfg.PassphraseEnv == "" {
		cfg.PassphraseEnv = DefaultPassphraseEnv
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = DefaultServiceName
	}
	if cfg.Dir == "" {
		cfg.Dir = DefaultDir()
	}
	backend := strings.ToLower(strings.TrimSpace(cfg.Backend))
	switch backend {
	case "", BackendAuto:
		if len(KeychainCandidates()) > 0 {
			return nil, fmt.Errorf("cache backend auto may pick %s: %w", strings.Join(KeychainCandidates(), " or "), ErrNeedsKeychain)
		}
		return openFile(cfg)
	case BackendFile:
		return openFile(cfg)
	case BackendKeyctl:
		return openKeyctl(cfg)
	case BackendSecretService, BackendKWallet, BackendPass, BackendKeychain, BackendWinCred:
		return nil, fmt.Errorf("cache backend %s: %w", backend, ErrNeedsKeychain)
	default:
		return nil, fmt.Errorf("cache backend %q is not one of auto, file, keyctl, secret-service, kwallet, pass, keychain, wincred", cfg.Backend)
	}
}

// KeychainCandidates lists the keychain backends "auto" tries, in order,
// before it falls back to the file backend: keychain on macOS, wincred on
// Windows, and on Linux secret-service and kwallet only when the process
// has a D-Bus session address (DBUS_SESSION_BUS_ADDRESS set and not
// "autolaunch:"), so that a headless run never touches D-Bus.
func KeychainCandidates() []string {
	switch runtime.GOOS {
	case "darwin":
		return []string{BackendKeychain}
	case "windows":
		return []string{BackendWinCred}
	case "linux":
		if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
			return []string{BackendSecretService, BackendKWallet}
		}
	}
	return nil
}
