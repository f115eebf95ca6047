package cache

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
)

// The file backend's KEK cache.
//
// Opening a file item costs one PBKDF2 derivation of its key-encryption key
// (8192 rounds of HMAC-SHA256, ~1.3 ms): more than the rest of a cache hit
// together. Where the Linux kernel keyring is usable, the derived KEK of an
// item is kept there for kekCacheTTL, masked with a value that only the
// passphrase gives, so that a hit costs a keyctl search and read, an HMAC
// and the AES unwrap. One slot per item key (identity), replaced when the
// item is rewritten:
//
//	description  "veeam-credential-helper:kek:" + hex(SHA-256(item key))[:40]
//	payload      version (16 bytes: SHA-256(alg, p2c, p2s, encrypted CEK)) ||
//	             KEK XOR HMAC-SHA512(passphrase, "veeam-credential-helper kek mask v1" || alg || p2c || p2s)[:len(KEK)]
//
// The version ties the payload to one item file version (its random salt and
// wrapped key); the mask ties it to the passphrase, which is still needed on
// every call. What changes, and only while an entry lives (kekCacheTTL, or
// until reboot or the user's last logout), is that a process of the same user
// that can read the user keyring can test passphrase guesses at the speed of
// one HMAC instead of 8192 rounds. Such a process can equally read the
// passphrase from the environment of a running helper (/proc/PID/environ),
// and the keyctl backend keeps tokens there in the clear, so this is inside
// the same-user trust boundary the file backend already has. At rest - the
// files, a backup, another user - nothing changes: the item is byte for byte
// keyring's PBES2 JWE.
//
// The user's kernel key quota (200 keys / 20000 bytes for non-root users by
// default) is shared with the keyctl backend and everything else: a slot is
// written only while the user uses less than half of it.
//
// A keyring that refuses (containers, seccomp), any other OS, a wrong
// passphrase, another item version or a payload that does not unwrap: the
// full derivation runs, as before.

const (
	kekCacheTTL    = 3600 // seconds
	kekCachePrefix = "veeam-credential-helper:kek:"
	kekVersionLen  = 16
)

// kekCacheID returns the keyring description of an item key's slot, the
// version of one item file and the mask for it.
func kekCacheID(key, passphrase, alg string, p2c int64, p2s string, encKey []byte) (desc string, version, mask []byte) {
	d := sha256.Sum256([]byte(key))
	desc = kekCachePrefix + hex.EncodeToString(d[:])[:40]

	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(p2c))
	h := sha256.New()
	for _, part := range [][]byte{[]byte(alg), n[:], []byte(p2s), encKey} {
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(len(part)))
		h.Write(l[:])
		h.Write(part)
	}
	version = h.Sum(nil)[:kekVersionLen]

	m := hmac.New(sha512.New, []byte(passphrase))
	m.Write([]byte("veeam-credential-helper kek mask v1\x00"))
	m.Write([]byte(alg))
	m.Write([]byte{0})
	m.Write(n[:])
	m.Write([]byte(p2s))
	return desc, version, m.Sum(nil)
}

func xorBytes(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// kekCacheDisabled turns the cache off (tests of the slow path).
var kekCacheDisabled bool
