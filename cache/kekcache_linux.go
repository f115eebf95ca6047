package cache

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

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
// readable by its possessor and by the same user only. Linking it into the
// user keyring displaces the key of the same description there (the item's
// previous version), so there is one key per item key. As keyring's keyctl
// backend does: the key is created in the session keyring (which the
// process possesses, so that it may set its permissions and timeout), then
// linked into the user keyring and unlinked from the session one. Best
// effort: any failure leaves the slow path in place.
func kekCachePut(desc string, payload []byte) {
	if kekCacheDisabled || !kekQuotaRoom(len(desc)+len(payload)) {
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

// kekQuotaRoom reports whether the user's kernel key quota is less than half
// used (and stays so with one more key of size bytes), from /proc/key-users:
// "<uid>: <usage> <nkeys>/<nikeys> <qnkeys>/<maxkeys> <qnbytes>/<maxbytes>".
// The quota is shared with the keyctl backend: the cache must never be what
// makes it full. Unreadable: no room.
func kekQuotaRoom(size int) bool {
	b, err := os.ReadFile("/proc/key-users")
	if err != nil {
		return false
	}
	return quotaRoom(b, os.Getuid(), size)
}

func quotaRoom(keyUsers []byte, uid, size int) bool {
	prefix := []byte(strconv.Itoa(uid) + ":")
	sc := bufio.NewScanner(bytes.NewReader(keyUsers))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 5 || !bytes.Equal(f[0], prefix) {
			continue
		}
		nkeys, maxkeys, ok1 := fraction(f[3])
		nbytes, maxbytes, ok2 := fraction(f[4])
		return ok1 && ok2 && 2*(nkeys+1) <= maxkeys && 2*(nbytes+int64(size)) <= maxbytes
	}
	return true // no line: the user has no keys yet
}

// fraction parses "n/limit".
func fraction(b []byte) (n, limit int64, ok bool) {
	a, c, found := bytes.Cut(b, []byte("/"))
	if !found {
		return 0, 0, false
	}
	n, err1 := strconv.ParseInt(string(a), 10, 64)
	limit, err2 := strconv.ParseInt(string(c), 10, 64)
	return n, limit, err1 == nil && err2 == nil
}
