// Package jsonread is a small strict JSON reader for the few fixed-shape
// objects read on a cache hit (the cache entry, KUBERNETES_EXEC_INFO).
//
// encoding/json's first decode of a struct type builds its field cache by
// reflection, a noticeable part of a process that does nothing but answer a
// cache hit; reading these objects by hand avoids it. The reader accepts
// exactly the grammar of encoding/json's scanner (RFC 8259, any bytes >= 0x20
// inside strings, the nesting limit of 10000) and unescapes strings exactly as
// encoding/json does; the callers hold themselves to encoding/json's results
// with differential fuzz tests.
//
// The reader reports failure as false, never with the input: callers choose
// their error texts, which must not quote what may be a secret.
package jsonread

import (
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is encoding/json's limit on nested objects and arrays (the
// top-level value counts as one).
const MaxDepth = 10000

// Reader reads JSON values from a byte slice, left to right.
type Reader struct {
	b []byte
	i int
}

// New returns a Reader at the start of b.
func New(b []byte) Reader { return Reader{b: b} }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// SkipSpace skips JSON whitespace (space, tab, newline, carriage return).
func (r *Reader) SkipSpace() {
	for r.i < len(r.b) && isSpace(r.b[r.i]) {
		r.i++
	}
}

// Peek returns the next byte, 0 at the end (where nothing is valid).
func (r *Reader) Peek() byte {
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// AtEnd reports whether only whitespace is left.
func (r *Reader) AtEnd() bool {
	r.SkipSpace()
	return r.i == len(r.b)
}

// Literal consumes lit ("true", "false" or "null") if it is next.
func (r *Reader) Literal(lit string) bool {
	if len(r.b)-r.i < len(lit) || string(r.b[r.i:r.i+len(lit)]) != lit {
		return false
	}
	r.i += len(lit)
	return true
}

// Bool reads true or false.
func (r *Reader) Bool() (v, ok bool) {
	switch r.Peek() {
	case 't':
		return true, r.Literal("true")
	case 'f':
		return false, r.Literal("false")
	}
	return false, false
}

// String reads a string and returns its value, unescaped as encoding/json
// does (see Unquote). The value may share memory with the input.
func (r *Reader) String() ([]byte, bool) {
	start, end, plain, ok := r.scanString()
	if !ok {
		return nil, false
	}
	if plain {
		return r.b[start:end], true
	}
	return Unquote(r.b[start:end]), true
}

// StringInto reads a string into *dst, or null, which leaves *dst as it is
// (what encoding/json does for a string field).
func (r *Reader) StringInto(dst *string) bool {
	if r.Peek() == 'n' {
		return r.Literal("null")
	}
	s, ok := r.String()
	if ok {
		*dst = string(s)
	}
	return ok
}

// RawString reads a string and returns it as it is in the input, quotes
// included (what encoding/json hands to an UnmarshalJSON method).
func (r *Reader) RawString() ([]byte, bool) {
	start := r.i
	if _, _, _, ok := r.scanString(); !ok {
		return nil, false
	}
	return r.b[start:r.i], true
}

// scanString reads the string at r.i (its opening quote) and returns the
// bounds of its contents. plain: no escape and no byte above 0x7f, so the
// contents are the value as they are.
func (r *Reader) scanString() (start, end int, plain, ok bool) {
	b := r.b
	if r.i >= len(b) || b[r.i] != '"' {
		return 0, 0, false, false
	}
	i := r.i + 1
	start, plain = i, true
	for i < len(b) {
		c := b[i]
		if c-0x20 < utf8.RuneSelf-0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		switch {
		case c == '"':
			r.i = i + 1
			return start, i, plain, true
		case c < 0x20:
			return 0, 0, false, false
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return 0, 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return 0, 0, false, false
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		default: // >= 0x80: any byte is allowed, Unquote mends bad UTF-8
			plain = false
			i++
		}
	}
	return 0, 0, false, false
}

// hex4 is the value of four hex digits, -1 if they are not.
func hex4(s []byte) rune {
	var n rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		n = n*16 + rune(c)
	}
	return n
}

// Unquote decodes the contents (between the quotes) of a well-formed JSON
// string exactly as encoding/json does: escapes decoded, a valid surrogate
// pair joined, a lone surrogate and every byte of invalid UTF-8 replaced by
// U+FFFD. The result is a new slice.
func Unquote(s []byte) []byte {
	out := make([]byte, 0, len(s)+utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				rr := hex4(s[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(rr) {
					rr1 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						rr1 = hex4(s[i+2 : i+6])
					}
					if dec := utf16.DecodeRune(rr, rr1); dec != utf8.RuneError {
						rr = dec
						i += 6
					} else {
						rr = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, rr)
				continue
			default: // '"', '\\', '/'
				out = append(out, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			rr, n := utf8.DecodeRune(s[i:])
			out = utf8.AppendRune(out, rr)
			i += n
		}
	}
	return out
}

// Number reads a number and returns it as it is in the input; isInt: no
// fraction and no exponent.
func (r *Reader) Number() (raw []byte, isInt, ok bool) {
	b, i := r.b, r.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return nil, false, false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return nil, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return nil, false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return nil, false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	raw, r.i = r.b[r.i:i], i
	return raw, isInt, true
}

// Skip reads any value, checking its syntax. depth is the number of objects
// and arrays the value is in.
func (r *Reader) Skip(depth int) bool {
	switch r.Peek() {
	case '"':
		_, _, _, ok := r.scanString()
		return ok
	case 't':
		return r.Literal("true")
	case 'f':
		return r.Literal("false")
	case 'n':
		return r.Literal("null")
	case '{':
		return r.Object(depth+1, func([]byte) bool { return r.Skip(depth + 1) })
	case '[':
		return r.array(depth + 1)
	}
	_, _, ok := r.Number()
	return ok
}

func (r *Reader) array(depth int) bool {
	if depth > MaxDepth {
		return false
	}
	r.i++ // '['
	r.SkipSpace()
	if r.Peek() == ']' {
		r.i++
		return true
	}
	for {
		if !r.Skip(depth) {
			return false
		}
		r.SkipSpace()
		switch r.Peek() {
		case ',':
			r.i++
			r.SkipSpace()
		case ']':
			r.i++
			return true
		default:
			return false
		}
	}
}

// Object reads the object at r (Peek() == '{'), at nesting depth depth (the
// top-level value is at 1). For each member it calls field with the key,
// unescaped (it may share memory with the input), and r at the value, which
// field must read; its values are at depth depth (Skip(depth) for one to
// ignore). It stops with false when field does, or at a syntax error.
func (r *Reader) Object(depth int, field func(key []byte) bool) bool {
	if depth > MaxDepth || r.Peek() != '{' {
		return false
	}
	r.i++
	r.SkipSpace()
	if r.Peek() == '}' {
		r.i++
		return true
	}
	for {
		key, ok := r.String()
		if !ok {
			return false
		}
		r.SkipSpace()
		if r.Peek() != ':' {
			return false
		}
		r.i++
		r.SkipSpace()
		if !field(key) {
			return false
		}
		r.SkipSpace()
		switch r.Peek() {
		case ',':
			r.i++
			r.SkipSpace()
		case '}':
			r.i++
			return true
		default:
			return false
		}
	}
}
