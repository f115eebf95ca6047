package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// The file backend's passphrase check: an item sealed with the passphrase
// the cache was first written with, beside the items. Every passphrase is
// checked against it before the first write of a process (and before the
// grant that write would store), so that a mistyped passphrase is refused
// at once with the next step, instead of writing items that every correctly
// configured caller then cannot open.
const (
	checkName  = ".passphrase-check" // not a valid key: never an item's name
	checkKey   = "passphrase-check"
	checkValue = "veeam-credential-helper passphrase check v1"
)

// itemsToTry bounds how many existing items are tried when a cache written
// before the check existed gets its first check.
const itemsToTry = 3

// verifyPassphrase reports whether pass opens the cache: the check item
// when there is one; else (an older cache) one of its items, and then the
// check is written; else (an empty cache) the check is written. It runs
// once per store.
func (s *fileStore) verifyPassphrase(pass string) error {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if s.checked {
		return nil
	}
	if err := s.checkPassphrase(pass); err != nil {
		return err
	}
	s.checked = true
	return nil
}

func (s *fileStore) checkPassphrase(pass string) error {
	raw, err := readRegular(filepath.Join(s.dir, checkName))
	if err == nil {
		_, err := openItem(checkKey, raw, pass, s.json)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errWrongPassword):
			return s.mismatch()
		}
		// A malformed check (torn write) is replaced below.
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotRegular) {
		return unavailable(err, "cannot read the token cache")
	}
	tried := 0
	for _, name := range s.itemNames() {
		if tried == itemsToTry {
			break
		}
		raw, err := readRegular(filepath.Join(s.dir, name))
		if err != nil {
			continue
		}
		_, err = openItem(name, raw, pass, s.json)
		if errors.Is(err, errWrongPassword) {
			return s.mismatch()
		}
		if err == nil {
			break
		}
		tried++
	}
	sealed, err := sealItem(checkKey, []byte(checkValue), pass)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.dir, checkName, sealed)
}

// mismatch is the refusal of a passphrase the cache was not written with.
func (s *fileStore) mismatch() error {
	return unavailable(nil, "wrong passphrase: the token cache %s was written with another one; give that one (%s), or run `veeam-credential-helper logout --all` to clear the cache (no passphrase needed; stored logins are lost)",
		filepath.Dir(s.dir), s.pass.env)
}

// itemNames lists the item files (valid keys), not the check or temp files.
func (s *fileStore) itemNames() []string {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && CheckKey(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	return names
}

// ClearUndecryptable removes what the available passphrase cannot open:
// every item when there is no passphrase at hand, else the items another
// passphrase wrote; and the check, unless the passphrase opens it (the
// reset `logout --all` performs: the next passphrase owns the cache). It
// returns how many items it removed.
func (s *fileStore) ClearUndecryptable() (int, error) {
	pass, err := s.pass.get()
	if err != nil {
		pass = ""
	}
	keepCheck := false
	if pass != "" {
		if raw, err := readRegular(filepath.Join(s.dir, checkName)); err == nil {
			_, err := openItem(checkKey, raw, pass, s.json)
			keepCheck = err == nil
		}
	}
	n, err := s.removeIf(func(name string, raw []byte) bool {
		if pass == "" {
			return true
		}
		_, err := openItem(name, raw, pass, s.json)
		return errors.Is(err, errWrongPassword)
	})
	if err != nil || keepCheck {
		return n, err
	}
	if err := os.Remove(filepath.Join(s.dir, checkName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, unavailable(err, "cannot remove the passphrase check")
	}
	s.checkMu.Lock()
	s.checked = false
	s.checkMu.Unlock()
	return n, nil
}

func (s *fileStore) removeIf(remove func(name string, raw []byte) bool) (int, error) {
	n := 0
	for _, name := range s.itemNames() {
		raw, err := readRegular(filepath.Join(s.dir, name))
		if err != nil || !remove(name, raw) {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, unavailable(err, "cannot remove the token cache item")
		}
		n++
	}
	return n, nil
}
