package cache

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fileStore is keyring's file backend, reimplemented on the same format
// (see jwe.go) because keyring.FileBackend writes with os.WriteFile (not
// atomic: a reader racing a writer, or a crash, sees a truncated item; and
// an existing file keeps its old mode), returns an error for Remove of a
// missing key, and cannot tell garbage from a wrong passphrase.
type fileStore struct {
	dir  string // <cache dir>/tokens
	pass *passphraseSource
}

func openFile(cfg Config) (Store, error) {
	if err := EnsureDir(cfg.Dir); err != nil {
		return nil, err
	}
	td := tokensDir(cfg.Dir)
	if err := EnsureDir(td); err != nil {
		return nil, err
	}
	return &fileStore{dir: td, pass: &passphraseSource{
		env:         cfg.PassphraseEnv,
		command:     cfg.PassphraseCommand,
		interactive: cfg.Interactive,
		dir:         cfg.Dir,
		timeout:     cfg.CommandTimeout,
		drop:        cfg.CommandEnvDrop,
	}}, nil
}

func (s *fileStore) Backend() string { return BackendFile }

// Unlock fetches the passphrase (env, command, prompt).
func (s *fileStore) Unlock() error {
	_, err := s.pass.get()
	return err
}

func (s *fileStore) path(key string) string { return filepath.Join(s.dir, key) }

func (s *fileStore) Get(key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err, "cannot read the token cache")
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxItemSize+1))
	f.Close()
	if err != nil {
		return nil, unavailable(err, "cannot read the token cache")
	}
	if len(raw) > maxItemSize {
		return nil, ErrNotFound
	}
	pass, err := s.pass.get()
	if err != nil {
		return nil, err
	}
	data, err := openItem(key, raw, pass)
	switch {
	case errors.Is(err, errWrongPassword):
		return nil, unavailable(nil, "cannot decrypt the token cache: wrong passphrase?")
	case err != nil:
		return nil, ErrNotFound
	}
	return data, nil
}

func (s *fileStore) Set(key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	pass, err := s.pass.get()
	if err != nil {
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
	tmp, err := os.CreateTemp(dir, ".tmp-"+name+"-*")
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
