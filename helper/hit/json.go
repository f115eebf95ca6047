package hit

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// The JSON a hit reads (the cache entry, the file item's JWE header and
// payload, KUBERNETES_EXEC_INFO) is read by the small reader below rather
// than by encoding/json, whose first decode of a struct type in a process
// builds its field cache by reflection: about a fifth of a hit's
// instructions. It is strict: keys match exactly, a string we need may not
// hold an escape, a repeated key, a fraction or anything unexpected is
// "not ok", and the engine then reads the same bytes with encoding/json.

type jsonReader struct {
	b []byte
	i int
}

func (r *jsonReader) space() {
	for r.i < len(r.b) && (r.b[r.i] == ' ' || r.b[r.i] == '\t' || r.b[r.i] == '\n' || r.b[r.i] == '\r') {
		r.i++
	}
}

func (r *jsonReader) peek() byte {
	r.space()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

func (r *jsonReader) eat(c byte) bool {
	if r.peek() != c {
		return false
	}
	r.i++
	return true
}

// str reads a string without escapes or control characters; raw, with an
// escape: ok but not plain (the value must then be skipped, not used).
func (r *jsonReader) str() (s []byte, plain, ok bool) {
	if !r.eat('"') {
		return nil, false, false
	}
	start, plain := r.i, true
	for ; r.i < len(r.b); r.i++ {
		switch c := r.b[r.i]; {
		case c == '"':
			r.i++
			return r.b[start : r.i-1], plain, true
		case c == '\\':
			plain = false
			r.i++
		case c < 0x20:
			return nil, false, false
		case c >= 0x80: // encoding/json would replace invalid UTF-8: not plain
			plain = false
		}
	}
	return nil, false, false
}

// plainStr reads a string the caller uses: it must be plain.
func (r *jsonReader) plainStr() (string, bool) {
	s, plain, ok := r.str()
	return string(s), ok && plain
}

// skip reads any value; depth bounds nesting.
func (r *jsonReader) skip(depth int) bool {
	switch c := r.peek(); {
	case c == '"':
		_, _, ok := r.str()
		return ok
	case c == '{':
		return depth < 64 && r.object(func(string) bool { return r.skip(depth + 1) })
	case c == '[':
		r.i++
		if r.eat(']') {
			return true
		}
		for depth < 64 && r.skip(depth+1) {
			if r.eat(']') {
				return true
			}
			if !r.eat(',') {
				return false
			}
		}
		return false
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(r.b)-r.i >= len(lit) && string(r.b[r.i:r.i+len(lit)]) == lit {
				r.i += len(lit)
				return true
			}
		}
		return false
	}
	_, ok := r.int()
	return ok
}

// int reads an integer (no fraction, no exponent).
func (r *jsonReader) int() (int64, bool) {
	r.space()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	digits := r.b[start:r.i]
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	return n, err == nil
}

// object reads an object, calling field for each member with r at its
// value; a key may appear once.
func (r *jsonReader) object(field func(key string) bool) bool {
	if !r.eat('{') {
		return false
	}
	if r.eat('}') {
		return true
	}
	var seen []string
	for {
		key, ok := r.plainStr()
		if !ok || !r.eat(':') {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if !field(key) {
			return false
		}
		if r.eat('}') {
			return true
		}
		if !r.eat(',') {
			return false
		}
	}
}

// whole reads one top-level object and nothing after it.
func (r *jsonReader) whole(field func(key string) bool) bool {
	ok := r.object(field)
	r.space()
	return ok && r.i == len(r.b)
}

// decodeEntry reads what cache.EncodeEntry writes; cache.DecodeEntry is
// the engine's reader.
func decodeEntry(b []byte) (cache.Entry, bool) {
	var e cache.Entry
	v := int64(0)
	r := jsonReader{b: b}
	ok := r.whole(func(key string) bool {
		var ok bool
		switch key {
		case "v":
			v, ok = r.int()
		case "access_token":
			e.AccessToken, ok = r.plainStr()
			ok = ok && bearerSafe(e.AccessToken)
		case "token_type":
			e.TokenType, ok = r.plainStr()
		case "expires_at":
			e.ExpiresAt, ok = r.time()
		case "checked_at": // the fleet's confirmation of a local copy
			e.CheckedAt, ok = r.time()
		case "issued_at": // the lifetime, for a short-lived token
			e.IssuedAt, ok = r.time()
		default: // refresh token, cookies: not a hit's business
			// encoding/json would match "Access_Token" or a Unicode fold of
			// a known key to it: such a key is the engine's to read.
			return plainKey(key) && r.skip(1)
		}
		return ok
	})
	return e, ok && v == 1
}

// time reads a plain string holding a time as encoding/json does (strict
// RFC 3339).
func (r *jsonReader) time() (time.Time, bool) {
	var t time.Time
	s, ok := r.plainStr()
	return t, ok && t.UnmarshalText([]byte(s)) == nil
}

// itemJSON reads the file store's JWE header and item for cache.Open.
type itemJSON struct{}

func (itemJSON) Header(b []byte) (cache.JWEHeader, bool) {
	var h cache.JWEHeader
	r := jsonReader{b: b}
	ok := r.whole(func(key string) bool {
		var ok bool
		switch key {
		case "alg":
			h.Alg, ok = r.plainStr()
		case "enc":
			h.Enc, ok = r.plainStr()
		case "p2s":
			h.P2S, ok = r.plainStr()
		case "p2c":
			var n int64
			n, ok = r.int()
			h.P2C = &n
		case "zip":
			return false // never written: the engine says what it is
		default:
			return r.skip(1)
		}
		return ok
	})
	return h, ok
}

func (itemJSON) Item(b []byte) (key string, data []byte, ok bool) {
	r := jsonReader{b: b}
	ok = r.whole(func(k string) bool {
		var ok bool
		switch k {
		case "Key":
			key, ok = r.plainStr()
		case "Data":
			s, plain, strOK := r.str()
			if ok = strOK && plain; ok {
				data, ok = decodeBase64(s)
			}
		default:
			return r.skip(1)
		}
		return ok
	})
	return key, data, ok && data != nil
}

// decodeBase64 decodes from the item's bytes, not from a string copy of
// them: one allocation less of the hit's largest field.
func decodeBase64(s []byte) ([]byte, bool) {
	d := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(d, s)
	return d[:n], err == nil
}

// ExecAPIVersion is the apiVersion of KUBERNETES_EXEC_INFO (kubectl sets it
// for every exec-credential call): ExecV1 when unset, "" (the engine's to
// answer) for anything but an ExecCredential object of a supported version.
func ExecAPIVersion(env string) string {
	if env == "" {
		return protocol.ExecV1
	}
	var kind, version string
	r := jsonReader{b: []byte(env)}
	ok := r.whole(func(key string) bool {
		var ok bool
		switch key {
		case "kind":
			kind, ok = r.plainStr()
		case "apiVersion":
			version, ok = r.plainStr()
		case "spec":
			return r.peek() == '{' && r.skip(1)
		default:
			return r.skip(1)
		}
		return ok
	})
	if !ok || kind != protocol.ExecKind || (version != protocol.ExecV1 && version != protocol.ExecV1beta1) {
		return ""
	}
	return version
}

// plainKey reports whether key is spelled as EncodeEntry spells keys
// (lowercase ASCII, digits, underscore).
func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// bearerSafe is the engine's test of a cached token it may answer:
// printable ASCII without spaces. Any other token is the engine's, which
// renews it.
func bearerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
