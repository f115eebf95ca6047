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
// (8192 rounds, ~1.3 ms): more than the rest of a cache hit together. Where
// the Linux kernel keyring is usable, the derived KEK is kept there for
// kekCacheTTL, masked with a value only the passphrase gives, one slot per
// item key, replaced when the item is rewritten:
//
//	description  "veeam-credential-helper:kek:" + hex(SHA-256(item key))[:40]
//	payload      version (16 bytes: SHA-256(alg, p2c, p2s, encrypted CEK)) ||
//	             KEK XOR HMAC-SHA512(passphrase, "veeam-credential-helper kek mask v1" || alg || p2c || p2s)[:len(KEK)]
//
// A slot is written only while the user uses less than half of the kernel
// key quota. Anything that does not match or unwrap runs the full derivation.
// Why this stays inside the file backend's trust boundary: BENCHMARKS.md,
// "The file backend's KEK cache: threat model".

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
