package cache

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"testing"

	josea "github.com/dvsekhvalnov/jose2go/aes"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3394, section 4.
func TestKeyWrapRFC3394(t *testing.T) {
	const kek = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	for _, c := range []struct{ kek, key, wrapped string }{
		{kek[:32], "00112233445566778899AABBCCDDEEFF", "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{kek[:48], "00112233445566778899AABBCCDDEEFF", "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
		{kek, "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
		{kek[:48], "00112233445566778899AABBCCDDEEFF0001020304050607", "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
		{kek, "00112233445566778899AABBCCDDEEFF0001020304050607", "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
		{kek, "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F", "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	} {
		k, key, wrapped := unhex(t, c.kek), unhex(t, c.key), unhex(t, c.wrapped)
		got, err := keyWrap(key, k)
		if err != nil || !bytes.Equal(got, wrapped) {
			t.Errorf("keyWrap(%s, %s) = %X, %v; want %s", c.key, c.kek, got, err, c.wrapped)
		}
		got, err = keyUnwrap(wrapped, k)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("keyUnwrap(%s, %s) = %X, %v; want %s", c.wrapped, c.kek, got, err, c.key)
		}
		wrapped[len(wrapped)-1] ^= 1
		if _, err := keyUnwrap(wrapped, k); err == nil {
			t.Errorf("keyUnwrap of damaged %s: no error", c.wrapped)
		}
	}
}

// The items keyring's file backend writes are wrapped by jose2go.
func TestKeyWrapMatchesJose2go(t *testing.T) {
	for _, kekLen := range []int{16, 24, 32} {
		for _, cekLen := range []int{16, 24, 32} {
			kek, cek := make([]byte, kekLen), make([]byte, cekLen)
			rand.Read(kek)
			rand.Read(cek)
			theirs, err := josea.KeyWrap(cek, kek)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := keyWrap(cek, kek)
			if err != nil || !bytes.Equal(ours, theirs) {
				t.Errorf("keyWrap = %X, %v; jose2go %X", ours, err, theirs)
			}
			got, err := keyUnwrap(theirs, kek)
			if err != nil || !bytes.Equal(got, cek) {
				t.Errorf("keyUnwrap of jose2go's = %X, %v; want %X", got, err, cek)
			}
		}
	}
}

func TestKeyUnwrapRejects(t *testing.T) {
	kek := make([]byte, 16)
	for _, n := range []int{0, 8, 16, 25, 31} {
		if _, err := keyUnwrap(make([]byte, n), kek); err == nil {
			t.Errorf("keyUnwrap of %d bytes: no error", n)
		}
	}
	if _, err := keyUnwrap(make([]byte, 24), make([]byte, 15)); err == nil {
		t.Error("keyUnwrap with a 15-byte KEK: no error")
	}
}
