package cache

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// fileStore is keyring's file backend, reimplemented on the same format
// (see jwe.go) because keyring.FileBackend writes with os.WriteFile (not
// atomic: a reader racing a writer, or a crash, sees a truncated item; and
// an existing file keeps its old mode), returns an error for Remove of a
// missing key, and cannot tell garbage from a wrong passphrase.
type fileStore struct {
	dir  string // <cache dir>/tokens
	pass *passphraseSource

	json ItemJSON

	checkMu sync.Mutex
	checked bool // the passphrase matched the cache's check (passcheck.go)
}

func openFile(cfg Config) (Store, error) {
	if err := EnsureDir(cfg.Dir); err != nil {
		return nil, err
	}
	td := tokensDir(cfg.Dir)
	if err := EnsureDir(td); err != nil {
		return nil, err
	}
	dec := cfg.ItemJSON
	if dec == nil {
		dec = stdItemJSON{}
	}
	return &fileStore{dir: td, json: dec, pass: &passphraseSource{
		env:         cfg.PassphraseEnv,
		command:     cfg.PassphraseCommand,
		interactive: cfg.Interactive,
		dir:         cfg.Dir,
		timeout:     cfg.CommandTimeout,
		drop:        cfg.CommandEnvDrop,
	}}, nil
}

func (s *fileStore) Backend() string { return BackendFile }

// Unlock fetches the passphrase (env, command, prompt) and checks that the
// cache was written with it.
func (s *fileStore) Unlock() error {
	pass, err := s.pass.get()
	if err != nil {
		return err
	}
	return s.verifyPassphrase(pass)
}

func (s *fileStore) path(key string) string { return filepath.Join(s.dir, key) }

// Has reports whether an item is stored under key without decrypting it.
func (s *fileStore) Has(key string) bool {
	if CheckKey(key) != nil {
		return false
	}
	fi, err := os.Lstat(s.path(key))
	return err == nil && fi.Mode().IsRegular()
}

func (s *fileStore) Get(key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	raw, err := readRegular(s.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotRegular) || errors.Is(err, errTooLarge) {
		// Not an item of ours (a FIFO, a directory, a huge file): a miss,
		// and the next Set's rename replaces it.
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err, "cannot read the token cache")
	}
	return s.sealer().Open(key, raw)
}

// sealer encrypts and decrypts the store's items with its passphrase; its
// wrong-passphrase error is the store's (mismatch).
func (s *fileStore) sealer() *Sealer {
	return &Sealer{pass: s.pass, where: "the token cache", json: s.json, mismatch: s.mismatch}
}

func (s *fileStore) Set(key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	pass, err := s.pass.get()
	if err != nil {
		return err
	}
	if err := s.verifyPassphrase(pass); err != nil {
		return err
	}
	sealed, err := sealItem(key, data, pass)
	if err != nil {
		return err
	}
	if err := EnsureDir(s.dir); err != nil {
		return err
	}
	return writeFileAtomic(s.dir, key, sealed)
}

// writeFileAtomic writes dir/name through a 0600 temp file in dir and a
// rename, so a reader sees the old item or the new one, never a part.
// There is no fsync: after a power loss a torn item is a miss, not an error.
func writeFileAtomic(dir, name string, b []byte) error {
	removeStaleTemps(dir)
	tmp, err := os.CreateTemp(dir, tempPrefix+name+"-*")
	if err != nil {
		return unavailable(err, "cannot write the token cache")
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return unavailable(err, "cannot write the token cache")
	}
	if _, err := tmp.Write(b); err != nil {
		return unavailable(err, "cannot write the token cache")
	}
	if err := tmp.Close(); err != nil {
		return unavailable(err, "cannot write the token cache")
	}
	if err := os.Rename(tmpName, filepath.Join(dir, name)); err != nil {
		return unavailable(err, "cannot write the token cache")
	}
	ok = true
	return nil
}

const tempPrefix = ".tmp-"

// staleTemp is the age after which a temp file is a crash's leftover: a
// write takes milliseconds.
const staleTemp = time.Minute

// removeStaleTemps removes temp files a crash between write and rename
// left behind (they hold sealed items: nothing readable, but they pile up).
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = errors.New("too large for an item")
)

// readRegular reads an item file without blocking on a FIFO or a device
// planted at its path: it is opened non-blocking and refused unless it is a
// regular file of at most maxItemSize bytes.
func readRegular(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	// One buffer of the size Stat gave, and a byte more to see a file that
	// grew since: an item is read with one allocation, not io.ReadAll's
	// doublings from 512 bytes.
	raw := make([]byte, 0, min(fi.Size(), maxItemSize)+1)
	for {
		if len(raw) == cap(raw) {
			raw = append(raw, 0)[:len(raw)]
		}
		n, err := f.Read(raw[len(raw):min(cap(raw), maxItemSize+1)])
		raw = raw[:len(raw)+n]
		if len(raw) > maxItemSize {
			return nil, errTooLarge
		}
		if err == io.EOF {
			return raw, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (s *fileStore) Remove(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	err := os.Remove(s.path(key))
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return unavailable(err, "cannot remove the token cache item")
}
