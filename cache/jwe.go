package cache

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"strings"
	"time"
)

// The file backend's item format is 99designs/keyring's: one file per key,
// holding the compact JWE (RFC 7516; PBES2-HS256+A128KW, A256GCM) of the
// JSON of a keyring.Item. sealItem writes what keyring's jose2go call writes
// (the same header fields, 8192 PBKDF2 rounds); items are read by the strict
// decoder below, which tells a malformed item (a miss) from a well-formed one
// the passphrase does not open (unavailable), and bounds the PBKDF2 iteration
// count a planted file could ask for (jose2go v1.5.0 does not).

// JWE algorithm names (RFC 7518).
const (
	algPBES2HS256 = "PBES2-HS256+A128KW"
	algPBES2HS384 = "PBES2-HS384+A192KW"
	algPBES2HS512 = "PBES2-HS512+A256KW"
	encA128GCM    = "A128GCM"
	encA192GCM    = "A192GCM"
	encA256GCM    = "A256GCM"
	sealP2C       = 8192 // what keyring (jose2go) writes
)

const (
	maxItemSize = 1 << 20 // an item file bigger than this is not ours
	minP2C      = 1000
	maxP2C      = 1 << 21
)

var (
	errMalformed     = errors.New("malformed item")
	errWrongPassword = errors.New("wrong passphrase")
)

// JWEHeader is what an item's protected header says.
type JWEHeader struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	P2C *int64 `json:"p2c"`
	P2S string `json:"p2s"`
	Zip string `json:"zip"`
}

// ItemJSON reads the two JSON documents of a file item: the protected
// header and the decrypted keyring.Item (its Key and Data). Config.ItemJSON
// lets the cache-hit front read them without encoding/json's reflection;
// anything it is not sure of is "not ok", a miss.
type ItemJSON interface {
	Header(b []byte) (JWEHeader, bool)
	Item(b []byte) (key string, data []byte, ok bool)
}

// stdItemJSON is the ItemJSON of encoding/json.
type stdItemJSON struct{}

func (stdItemJSON) Header(b []byte) (JWEHeader, bool) {
	var h JWEHeader
	return h, json.Unmarshal(b, &h) == nil
}

func (stdItemJSON) Item(b []byte) (string, []byte, bool) {
	var it struct {
		Key  string
		Data []byte
	}
	err := json.Unmarshal(b, &it)
	return it.Key, it.Data, err == nil
}

// fileItem has the JSON shape of keyring.Item (v1.2.2), field for field.
type fileItem struct {
	Key                         string
	Data                        []byte
	Label                       string
	Description                 string
	KeychainNotTrustApplication bool
	KeychainNotSynchronizable   bool
}

// sealHeader is the protected header keyring writes (jose2go marshals a map,
// so the keys are sorted).
type sealHeader struct {
	Alg     string `json:"alg"`
	Created string `json:"created"`
	Enc     string `json:"enc"`
	P2C     int    `json:"p2c"`
	P2S     string `json:"p2s"`
}

// sealItem encrypts data for key as keyring's file backend does:
// PBKDF2-HMAC-SHA256 over alg || 0x00 || a random salt gives the key that
// AES-wraps a random content key, which seals the item with AES-256-GCM,
// the base64url protected header as additional data. Two differences that
// no reader sees: the salt has 16 bytes (jose2go draws 12), and "created"
// is the wall clock without Go's monotonic reading ("m=+...").
func sealItem(key string, data []byte, passphrase string) ([]byte, error) {
	plain, err := json.Marshal(fileItem{Key: key, Data: data})
	if err != nil {
		return nil, errors.New("cannot encode the cache item")
	}
	var salt [16]byte
	cek := make([]byte, 32)
	rand.Read(salt[:])
	rand.Read(cek)
	b64 := base64.RawURLEncoding.EncodeToString
	hdr, err := json.Marshal(sealHeader{Alg: algPBES2HS256, Created: time.Now().Round(0).String(),
		Enc: encA256GCM, P2C: sealP2C, P2S: b64(salt[:])})
	if err != nil {
		return nil, errors.New("cannot encrypt the cache item")
	}
	kek, err := pbkdf2.Key(sha256.New, passphrase, append([]byte(algPBES2HS256+"\x00"), salt[:]...), sealP2C, 16)
	if err != nil {
		return nil, errors.New("cannot encrypt the cache item")
	}
	encKey, err := keyWrap(cek, kek)
	if err != nil {
		return nil, errors.New("cannot encrypt the cache item")
	}
	block, _ := aes.NewCipher(cek) // a 32-byte key cannot fail
	gcm, _ := cipher.NewGCM(block)
	iv := make([]byte, gcm.NonceSize())
	rand.Read(iv)
	protected := b64(hdr)
	sealed := gcm.Seal(nil, iv, plain, []byte(protected))
	ct, tag := sealed[:len(plain)], sealed[len(plain):]
	return []byte(protected + "." + b64(encKey) + "." + b64(iv) + "." + b64(ct) + "." + b64(tag)), nil
}

// openItem decrypts a file written by sealItem or by keyring's file backend.
// It returns errMalformed for anything that is not a well-formed item and
// errWrongPassword when the key unwrap fails.
func openItem(key string, raw []byte, passphrase string, dec ItemJSON) ([]byte, error) {
	parts := bytes.Split(bytes.TrimSpace(raw), []byte("."))
	if len(parts) != 5 {
		return nil, errMalformed
	}
	// The five parts are decoded one after the other into one buffer (a
	// hit's cost is mostly the memory it touches first), the ciphertext
	// just before the tag, where GCM opens them in place.
	size := 0
	for _, p := range parts {
		size += base64.RawURLEncoding.DecodedLen(len(p))
	}
	buf := make([]byte, 0, size)
	b64dec := func(p []byte) ([]byte, bool) {
		p = bytes.TrimRight(p, "=")
		start := len(buf)
		n, err := base64.RawURLEncoding.Decode(buf[start:cap(buf)], p)
		buf = buf[:start+n]
		return buf[start : start+n : start+n], err == nil
	}
	hdrJSON, ok := b64dec(parts[0])
	if !ok {
		return nil, errMalformed
	}
	h, ok := dec.Header(hdrJSON)
	if !ok {
		return nil, errMalformed
	}
	var kekLen int
	var prf func() hash.Hash
	switch h.Alg {
	case algPBES2HS256:
		kekLen, prf = 16, sha256.New
	case algPBES2HS384:
		kekLen, prf = 24, sha512.New384
	case algPBES2HS512:
		kekLen, prf = 32, sha512.New
	default:
		return nil, errMalformed
	}
	var cekLen int
	switch h.Enc {
	case encA128GCM:
		cekLen = 16
	case encA192GCM:
		cekLen = 24
	case encA256GCM:
		cekLen = 32
	default:
		return nil, errMalformed
	}
	if h.Zip != "" || h.P2C == nil || *h.P2C < minP2C || *h.P2C > maxP2C {
		return nil, errMalformed
	}
	saltInput, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h.P2S, "="))
	if err != nil || len(saltInput) < 8 {
		return nil, errMalformed
	}
	encKey, ok1 := b64dec(parts[1])
	iv, ok2 := b64dec(parts[2])
	ct, ok3 := b64dec(parts[3])
	tag, ok4 := b64dec(parts[4])
	if !ok1 || !ok2 || !ok3 || !ok4 || len(encKey) != cekLen+8 || len(iv) != 12 || len(tag) != 16 {
		return nil, errMalformed
	}

	// The KEK of this item version may be in the kernel keyring (kekcache.go).
	desc, version, mask := kekCacheID(key, passphrase, h.Alg, *h.P2C, h.P2S, encKey)
	var cek []byte
	if p, ok := kekCacheGet(desc, kekVersionLen+kekLen); ok && bytes.Equal(p[:kekVersionLen], version) {
		if c, err := keyUnwrap(encKey, xorBytes(p[kekVersionLen:], mask)); err == nil && len(c) == cekLen {
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
		c, err := keyUnwrap(encKey, kek)
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
	sealed := buf[len(buf)-len(ct)-len(tag):] // decoded last: ciphertext || tag
	plain, err := gcm.Open(ct[:0], iv, sealed, parts[0])
	if err != nil {
		// The passphrase opened the key: the content itself is damaged.
		return nil, errMalformed
	}
	// Only the two fields read: the other four of fileItem are ignored.
	itemKey, data, ok := dec.Item(plain)
	if !ok || itemKey != key {
		return nil, errMalformed
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
