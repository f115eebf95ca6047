package cache

import (
	"github.com/99designs/keyring"
	"golang.org/x/sys/unix"
)

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
	return openKeyring(cfg, BackendKeyctl)
}

// keyctlPerm: possessor and user all, group and others nothing.
func keyctlPerm() uint32 {
	return keyring.GetPermissions(keyring.KEYCTL_PERM_ALL, keyring.KEYCTL_PERM_ALL, 0, 0)
}
