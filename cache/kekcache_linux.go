package cache

import (
	"golang.org/x/sys/unix"
)

// kekCacheGet reads a payload stored by kekCachePut from the user keyring.
func kekCacheGet(desc string, size int) ([]byte, bool) {
	if kekCacheDisabled {
		return nil, false
	}
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0)
	if err != nil {
		return nil, false
	}
	buf := make([]byte, size+1)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil || n != size {
		return nil, false
	}
	return buf[:size], true
}

// kekCachePut stores payload in the user keyring for kekCacheTTL seconds,
// readable by its possessor and by the same user only. As keyring's keyctl
// backend does: the key is created in the session keyring (which the
// process possesses, so that it may set its permissions and timeout), then
// linked into the user keyring and unlinked from the session one. Best
// effort: any failure leaves the slow path in place.
func kekCachePut(desc string, payload []byte) {
	if kekCacheDisabled {
		return
	}
	id, err := unix.AddKey("user", desc, payload, unix.KEY_SPEC_SESSION_KEYRING)
	if err != nil {
		return
	}
	ok := unix.KeyctlSetperm(id, kekCachePerm) == nil
	if ok {
		_, err = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, kekCacheTTL, 0, 0)
		ok = err == nil
	}
	if ok {
		_, err = unix.KeyctlInt(unix.KEYCTL_LINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
		ok = err == nil
	}
	_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_SESSION_KEYRING, 0, 0)
	if !ok {
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
	}
}

// kekCachePerm: possessor and user may view, read, search, link and set
// attributes (timeout, invalidate); group and others nothing; nobody
// writes (a KEK is never updated in place).
const kekCachePerm = 0x3b3b0000
