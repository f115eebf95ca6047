package cache

import (
	"encoding/base64"
	"strconv"

	"github.com/veeam-tools/veeam-credential-helper/internal/jsonread"
)

// The protected header and the item are read on every file-backend hit, so
// they are read by hand (internal/jsonread) rather than by encoding/json,
// whose first use of a struct type in a process builds its field cache by
// reflection. The result is what json.Unmarshal gives into jweHeader and
// {Key string; Data []byte} for keys spelled as jose2go and keyring write
// them (exact match; encoding/json would also take other cases): a repeated
// key's last value wins, null leaves a field as it is, anything else of the
// wrong type fails. FuzzReadHeaderItem compares both.

// readHeader decodes the JWE protected header.
func readHeader(b []byte) (jweHeader, bool) {
	var h jweHeader
	r := jsonread.New(b)
	ok := readObject(&r, func(key []byte) bool {
		switch string(key) {
		case "alg":
			return r.StringInto(&h.Alg)
		case "enc":
			return r.StringInto(&h.Enc)
		case "p2s":
			return r.StringInto(&h.P2S)
		case "zip":
			return r.StringInto(&h.Zip)
		case "p2c":
			if r.Peek() == 'n' {
				return r.Literal("null")
			}
			raw, isInt, ok := r.Number()
			if !ok || !isInt {
				return false
			}
			n, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil {
				return false
			}
			h.P2C = &n
			return true
		}
		return r.Skip(1)
	})
	return h, ok
}

// readItem decodes the Key and Data of a keyring.Item; Data is base64 as
// encoding/json writes a []byte.
func readItem(b []byte) (key string, data []byte, ok bool) {
	r := jsonread.New(b)
	ok = readObject(&r, func(k []byte) bool {
		switch string(k) {
		case "Key":
			return r.StringInto(&key)
		case "Data":
			if r.Peek() == 'n' {
				return r.Literal("null")
			}
			s, ok := r.String()
			if !ok {
				return false
			}
			d := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
			n, err := base64.StdEncoding.Decode(d, s)
			data = d[:n]
			return err == nil
		}
		return r.Skip(1)
	})
	return key, data, ok
}

// readObject reads one top-level object (or null, which sets nothing) and
// nothing after it.
func readObject(r *jsonread.Reader, field func(key []byte) bool) bool {
	r.SkipSpace()
	switch r.Peek() {
	case '{':
		if !r.Object(1, field) {
			return false
		}
	case 'n':
		if !r.Literal("null") {
			return false
		}
	default:
		return false
	}
	return r.AtEnd()
}
