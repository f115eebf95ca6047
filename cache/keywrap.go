package cache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// AES Key Wrap (RFC 3394), the JWE key management of the A*KW algorithms,
// with one AES cipher for all of its 6n steps.

var keyWrapIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

var errKeyWrap = errors.New("aes key wrap: bad key or integrity check failed")

// keyWrap wraps plain (n ≥ 2 blocks of 8 bytes) with kek.
func keyWrap(plain, kek []byte) ([]byte, error) {
	block, err := keyWrapCipher(plain, 16, kek)
	if err != nil {
		return nil, err
	}
	n := len(plain) / 8
	out := make([]byte, 8+len(plain)) // A || R[1] || ... || R[n]
	copy(out, keyWrapIV[:])
	copy(out[8:], plain)
	var b [16]byte
	for j := range 6 {
		for i := 1; i <= n; i++ {
			copy(b[:8], out[:8])
			copy(b[8:], out[8*i:8*i+8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(out[8*i:8*i+8], b[8:])
		}
	}
	return out, nil
}

// keyUnwrap unwraps what keyWrap wrapped with kek; an error when the
// integrity check fails (another key, or damaged input).
func keyUnwrap(wrapped, kek []byte) ([]byte, error) {
	block, err := keyWrapCipher(wrapped, 24, kek)
	if err != nil {
		return nil, err
	}
	n := len(wrapped)/8 - 1
	var a [8]byte
	copy(a[:], wrapped[:8])
	out := append([]byte(nil), wrapped[8:]...) // R[1] || ... || R[n]
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(b[8:], out[8*(i-1):8*i])
			block.Decrypt(b[:], b[:])
			copy(a[:], b[:8])
			copy(out[8*(i-1):8*i], b[8:])
		}
	}
	if subtle.ConstantTimeCompare(a[:], keyWrapIV[:]) != 1 {
		clear(out)
		return nil, errKeyWrap
	}
	return out, nil
}

// keyWrapCipher checks that data is whole 8-byte blocks, at least min bytes,
// and returns kek's cipher.
func keyWrapCipher(data []byte, min int, kek []byte) (cipher.Block, error) {
	if len(data) < min || len(data)%8 != 0 {
		return nil, errKeyWrap
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, errKeyWrap
	}
	return block, nil
}
