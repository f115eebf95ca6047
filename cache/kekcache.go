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
// passphrase gives, so that a hit costs a keyctl search and read, two
// HMAC-SHA512 and the AES unwrap:
//
//	description  "veeam-credential-helper:kek:" + hex(SHA-256(alg, p2c, p2s, encrypted CEK))[:40]
//	payload      KEK XOR HMAC-SHA512(passphrase, "veeam-credential-helper kek mask v1" || alg || p2c || p2s)[:len(KEK)]
//
// The description names one version of one item file (its random salt and
// wrapped key), never the passphrase. The payload alone opens nothing: the
// passphrase is still needed on every call. What changes, and only while an
// entry lives (kekCacheTTL, or until reboot/logout of the user), is that a
// process of the same user that can read the user keyring can test passphrase
// guesses at the speed of one HMAC instead of 8192 rounds. Such a process can
// equally read the passphrase from the environment of a running helper
// (/proc/PID/environ) and the keyctl backend keeps tokens there in the clear,
// so this is inside the same-user trust boundary the file backend already
// has. At rest - the files, a backup, another user - nothing changes: the
// item is byte for byte keyring's PBES2 JWE.
//
// A keyring that refuses (containers, seccomp), any other OS, a wrong
// passphrase or a payload that does not unwrap: the full derivation runs, as
// before.

const (
	kekCacheTTL    = 3600 // seconds
	kekCachePrefix = "veeam-credential-helper:kek:"
)

// kekCacheID returns the keyring description and the mask for one item version.
func kekCacheID(passphrase, alg string, p2c int64, p2s string, encKey []byte) (desc string, mask []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(p2c))
	h := sha256.New()
	for _, part := range [][]byte{[]byte(alg), n[:], []byte(p2s), encKey} {
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(len(part)))
		h.Write(l[:])
		h.Write(part)
	}
	desc = kekCachePrefix + hex.EncodeToString(h.Sum(nil))[:40]

	m := hmac.New(sha512.New, []byte(passphrase))
	m.Write([]byte("veeam-credential-helper kek mask v1\x00"))
	m.Write([]byte(alg))
	m.Write([]byte{0})
	m.Write(n[:])
	m.Write([]byte(p2s))
	return desc, m.Sum(nil)
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
