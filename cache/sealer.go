package cache

import "errors"

// Sealer encrypts items exactly as the file backend does (keyring's PBES2
// JWE, the item key bound inside), for a store that keeps them elsewhere:
// the fleet backend puts them in etcd, where whoever can read the keys but
// lacks the passphrase learns nothing but their sizes.
type Sealer struct {
	pass *passphraseSource
	// What Open's "wrong passphrase" error says the items are.
	where string
	// json reads the item's JSON; nil is encoding/json.
	json ItemJSON
	// mismatch, when set, is Open's error for a wrong passphrase.
	mismatch func() error
}

// NewSealer takes the passphrase from cfg as the file backend does
// (PassphraseEnv, PassphraseCommand, a prompt when Interactive); where
// names the items in errors ("the fleet's tokens in etcd").
func NewSealer(cfg Config, where string) *Sealer {
	env := cfg.PassphraseEnv
	if env == "" {
		env = DefaultPassphraseEnv
	}
	dir := cfg.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	return &Sealer{where: where, pass: &passphraseSource{
		env: env, command: cfg.PassphraseCommand, interactive: cfg.Interactive, dir: dir,
		timeout: cfg.CommandTimeout, drop: cfg.CommandEnvDrop,
	}}
}

// Unlock fetches the passphrase (env, command, prompt) without any item.
func (s *Sealer) Unlock() error {
	_, err := s.pass.get()
	return err
}

// Seal encrypts data for key.
func (s *Sealer) Seal(key string, data []byte) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	pass, err := s.pass.get()
	if err != nil {
		return nil, err
	}
	return sealItem(key, data, pass)
}

// Open decrypts what Seal wrote for key: ErrNotFound for anything that is
// not a well-formed item of that key, an UnavailableError when the
// passphrase does not open it.
func (s *Sealer) Open(key string, raw []byte) ([]byte, error) {
	if len(raw) > maxItemSize {
		return nil, ErrNotFound
	}
	pass, err := s.pass.get()
	if err != nil {
		return nil, err
	}
	dec := s.json
	if dec == nil {
		dec = stdItemJSON{}
	}
	data, err := openItem(key, raw, pass, dec)
	switch {
	case errors.Is(err, errWrongPassword) && s.mismatch != nil:
		return nil, s.mismatch()
	case errors.Is(err, errWrongPassword):
		// Name the next step: which passphrase, and where it is read from.
		return nil, unavailable(nil, "cannot decrypt %s: wrong passphrase: they were sealed with another one; give the one they were sealed with (%s or cache.passphrase_command)", s.where, s.pass.env)
	case err != nil:
		return nil, ErrNotFound
	}
	return data, nil
}

// SealerFor is NewSealer sharing st's passphrase when st is a file store, so
// that a fleet with a file local level asks for it (command, prompt) once.
func SealerFor(st Store, cfg Config, where string) *Sealer {
	if fs, ok := st.(*fileStore); ok {
		s := fs.sealer()
		s.where = where
		s.mismatch = nil // the check covers the file items, not these
		return s
	}
	return NewSealer(cfg, where)
}
