package cache

import (
	"errors"

	"golang.org/x/sys/unix"
)

// keyctlStore is 99designs/keyring's keyctl backend (scope "user", a named
// keyring per service, the permissions below), reimplemented on the same
// layout so that items written by either are read by the other: a keyring
// of type "keyring" described by the service name, linked into the user
// keyring, holding one key of type "user" per item, described by the item
// key, whose payload is the item's data.
type keyctlStore struct {
	ring int // the named keyring's serial
}

// keyctlPerm: possessor and user all, group and others nothing. Without the
// user bits a process whose session keyring is not linked to the user
// keyring (containers, some sudo/ssh setups) cannot find the named keyring
// and would recreate it, losing every item.
const keyctlPerm = 0x3f3f0000

// keyctlUsable asks the kernel for the user keyring without creating it;
// containers commonly forbid the keyctl syscalls (seccomp: EPERM/ENOSYS).
func keyctlUsable() error {
	_, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true)
	return err
}

func openKeyctl(cfg Config) (Store, error) {
	if err := keyctlUsable(); err != nil {
		return nil, unavailable(err, "cache backend keyctl is not available (the kernel keyring is not permitted here, e.g. in a container)")
	}
	ring, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", cfg.ServiceName, 0)
	if errors.Is(err, unix.ENOKEY) {
		ring, err = keyctlAddUser("keyring", cfg.ServiceName, nil, unix.KEY_SPEC_USER_KEYRING)
	}
	if errors.Is(err, unix.EDQUOT) {
		return nil, quotaFull(err, "cannot create the keyctl keyring")
	}
	if err != nil {
		return nil, unavailable(nil, "cache backend keyctl is not available on this system")
	}
	return &keyctlStore{ring: ring}, nil
}

// keyctlAddUser adds a key (or keyring) to ring with keyctlPerm, as keyring
// does: created in the session keyring (which the process possesses, so it
// may set the permissions), then linked into ring and unlinked from the
// session keyring. Adding a "user" key to a keyring that holds one of the
// same description replaces it.
func keyctlAddUser(typ, desc string, payload []byte, ring int) (int, error) {
	id, err := unix.AddKey(typ, desc, payload, unix.KEY_SPEC_SESSION_KEYRING)
	if err != nil {
		return 0, err
	}
	err = unix.KeyctlSetperm(id, keyctlPerm)
	if err == nil {
		_, err = unix.KeyctlInt(unix.KEYCTL_LINK, id, ring, 0, 0)
	}
	if _, uerr := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_SESSION_KEYRING, 0, 0); err == nil {
		err = uerr
	}
	return id, err
}

func (s *keyctlStore) Backend() string { return BackendKeyctl }

func (s *keyctlStore) Unlock() error { return nil }

// gone reports whether a search error means the key is not there.
func gone(err error) bool {
	return errors.Is(err, unix.ENOKEY) || errors.Is(err, unix.EKEYEXPIRED) || errors.Is(err, unix.EKEYREVOKED)
}

func (s *keyctlStore) Get(key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	id, err := unix.KeyctlSearch(s.ring, "user", key, 0)
	if gone(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err, "cannot read from the keyctl keyring")
	}
	buf := make([]byte, 4096)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if gone(err) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, unavailable(err, "cannot read from the keyctl keyring")
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		buf = make([]byte, n) // it grew: read again
	}
}

func (s *keyctlStore) Set(key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if _, err := keyctlAddUser("user", key, data, s.ring); err != nil {
		if errors.Is(err, unix.EDQUOT) {
			return quotaFull(err, "cannot write to the keyctl keyring")
		}
		return unavailable(err, "cannot write to the keyctl keyring")
	}
	return nil
}

// quotaFull explains EDQUOT: the kernel's per-user key quota (20000 bytes
// and 200 keys for a non-root user by default) is shared with every other
// program's keys, so "disk quota exceeded" alone sends users to df.
func quotaFull(err error, what string) error {
	return unavailable(err, "%s: your kernel key quota is full (keys of every program count; `keyctl show @u` lists them, /proc/key-users shows the use; root can raise kernel.keys.maxbytes and kernel.keys.maxkeys, or use cache backend file)", what)
}

func (s *keyctlStore) Remove(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	id, err := unix.KeyctlSearch(s.ring, "user", key, 0)
	if err == nil {
		_, err = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, s.ring, 0, 0)
	}
	if err == nil || gone(err) {
		return nil
	}
	return unavailable(err, "cannot remove from the keyctl keyring")
}
