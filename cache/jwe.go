package cache

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"strings"
	"time"

	"github.com/99designs/keyring"
	jose "github.com/dvsekhvalnov/jose2go"
	josea "github.com/dvsekhvalnov/jose2go/aes"
)

// The file backend's item format is 99designs/keyring's: one file per key,
// holding the compact JWE (PBES2-HS256+A128KW, A256GCM) of the JSON of a
// keyring.Item. Items are written with the same jose2go call keyring uses;
// they are read by the strict decoder below, which tells a malformed item
// (a miss) from a well-formed one the passphrase does not open (unavailable),
// and bounds the PBKDF2 iteration count a planted file could ask for
// (jose2go v1.5.0 does not).

const (
	maxItemSize = 1 << 20 // an item file bigger than this is not ours
	minP2C      = 1000
	maxP2C      = 1 << 21
)

var (
	errMalformed     = errors.New("malformed item")
	errWrongPassword = errors.New("wrong passphrase")
)

type jweHeader struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	P2C *int64 `json:"p2c"`
	P2S string `json:"p2s"`
	Zip string `json:"zip"`
}

// sealItem encrypts data for key exactly as keyring's file backend does.
func sealItem(key string, data []byte, passphrase string) ([]byte, error) {
	b, err := json.Marshal(keyring.Item{Key: key, Data: data})
	if err != nil {
		return nil, errors.New("cannot encode the cache item")
	}
	tok, err := jose.Encrypt(string(b), jose.PBES2_HS256_A128KW, jose.A256GCM, passphrase,
		jose.Headers(map[string]any{"created": time.Now().String()}))
	if err != nil {
		return nil, errors.New("cannot encrypt the cache item")
	}
	return []byte(tok), nil
}

// openItem decrypts a file written by sealItem or by keyring's file backend.
// It returns errMalformed for anything that is not a well-formed item and
// errWrongPassword when the key unwrap fails.
func openItem(key string, raw []byte, passphrase string) ([]byte, error) {
	s := strings.TrimSpace(string(raw))
	parts := strings.Split(s, ".")
	if len(parts) != 5 {
		return nil, errMalformed
	}
	dec := func(p string) ([]byte, bool) {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		return b, err == nil
	}
	hdrJSON, ok := dec(parts[0])
	if !ok {
		return nil, errMalformed
	}
	var h jweHeader
	if json.Unmarshal(hdrJSON, &h) != nil {
		return nil, errMalformed
	}
	var kekLen int
	var prf func() hash.Hash
	switch h.Alg {
	case jose.PBES2_HS256_A128KW:
		kekLen, prf = 16, sha256.New
	case jose.PBES2_HS384_A192KW:
		kekLen, prf = 24, sha512.New384
	case jose.PBES2_HS512_A256KW:
		kekLen, prf = 32, sha512.New
	default:
		return nil, errMalformed
	}
	var cekLen int
	switch h.Enc {
	case jose.A128GCM:
		cekLen = 16
	case jose.A192GCM:
		cekLen = 24
	case jose.A256GCM:
		cekLen = 32
	default:
		return nil, errMalformed
	}
	if h.Zip != "" || h.P2C == nil || *h.P2C < minP2C || *h.P2C > maxP2C {
		return nil, errMalformed
	}
	saltInput, ok := dec(h.P2S)
	if !ok || len(saltInput) < 8 {
		return nil, errMalformed
	}
	encKey, ok1 := dec(parts[1])
	iv, ok2 := dec(parts[2])
	ct, ok3 := dec(parts[3])
	tag, ok4 := dec(parts[4])
	if !ok1 || !ok2 || !ok3 || !ok4 || len(encKey) != cekLen+8 || len(iv) != 12 || len(tag) != 16 {
		return nil, errMalformed
	}

	// The KEK of this item version may be in the kernel keyring (kekcache.go).
	desc, version, mask := kekCacheID(key, passphrase, h.Alg, *h.P2C, h.P2S, encKey)
	var cek []byte
	if p, ok := kekCacheGet(desc, kekVersionLen+kekLen); ok && bytes.Equal(p[:kekVersionLen], version) {
		if c, err := josea.KeyUnwrap(encKey, xorBytes(p[kekVersionLen:], mask)); err == nil && len(c) == cekLen {
			cek = c
		}
	}
	if cek == nil {
		salt := make([]byte, 0, len(h.Alg)+1+len(saltInput))
		salt = append(append(append(salt, h.Alg...), 0), saltInput...)
		kek, err := pbkdf2.Key(prf, passphrase, salt, int(*h.P2C), kekLen)
		if err != nil {
			return nil, errWrongPassword
		}
		c, err := josea.KeyUnwrap(encKey, kek)
		if err != nil || len(c) != cekLen {
			return nil, errWrongPassword
		}
		cek = c
		kekCachePut(desc, append(append([]byte(nil), version...), xorBytes(kek, mask)...))
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, errMalformed
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errMalformed
	}
	plain, err := gcm.Open(nil, iv, append(ct, tag...), []byte(parts[0]))
	if err != nil {
		// The passphrase opened the key: the content itself is damaged.
		return nil, errMalformed
	}
	// Only the two fields read: the other four of keyring.Item are ignored
	// either way, and fewer fields are less reflection on every hit.
	var item struct {
		Key  string
		Data []byte
	}
	if json.Unmarshal(plain, &item) != nil || item.Key != key {
		return nil, errMalformed
	}
	if item.Data == nil {
		item.Data = []byte{}
	}
	return item.Data, nil
}
