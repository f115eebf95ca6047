package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// decodeEntryReflect is DecodeEntry as it was, with encoding/json decoding
// into a struct: the reference of the hand-written decoder. One change: its
// trailing-data check is strict (json.Decoder.More let a trailing "]" or "}"
// through).
func decodeEntryReflect(b []byte) (Entry, error) {
	var w struct {
		V            *int      `json:"v"`
		AccessToken  string    `json:"access_token"`
		RefreshToken string    `json:"refresh_token"`
		TokenType    string    `json:"token_type"`
		ExpiresAt    time.Time `json:"expires_at"`
		Cookies      string    `json:"cookies"`
		IssuedAt     time.Time `json:"issued_at"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return Entry{}, errors.New("cache entry is not valid JSON")
	}
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) != 0 {
		return Entry{}, errors.New("cache entry has trailing data")
	}
	if w.V == nil {
		return Entry{}, errors.New("cache entry has no version")
	}
	if *w.V != entryVersion {
		return Entry{}, fmt.Errorf("cache entry version %d is not supported", *w.V)
	}
	return Entry{
		AccessToken:  w.AccessToken,
		RefreshToken: w.RefreshToken,
		TokenType:    w.TokenType,
		ExpiresAt:    w.ExpiresAt,
		Cookies:      w.Cookies,
		IssuedAt:     w.IssuedAt,
	}, nil
}

var entryKeys = []string{"v", "access_token", "refresh_token", "token_type", "expires_at", "cookies", "issued_at"}

// jsonFold folds s as encoding/json's foldName does.
func jsonFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
		}
	}
	return b.String()
}

// foldedKey reports whether b's first value is an object with a key that
// encoding/json matches to one of known only case-insensitively ("V",
// "Access_Token", "coo\u212aies"): there the hand decoders differ on purpose.
func foldedKey(b []byte, known []string) bool {
	var m map[string]json.RawMessage
	if json.NewDecoder(bytes.NewReader(b)).Decode(&m) != nil {
		return false
	}
	for k := range m {
		for _, n := range known {
			if k != n && (strings.EqualFold(k, n) || jsonFold(k) == jsonFold(n)) {
				return true
			}
		}
	}
	return false
}

func sameTime(a, b time.Time) bool { return a.Equal(b) && a.String() == b.String() }

// sameDecode fails t unless DecodeEntry and the reference agree on b: the
// same error text, or the same entry.
func sameDecode(t *testing.T, b []byte) {
	t.Helper()
	got, gotErr := DecodeEntry(b)
	want, wantErr := decodeEntryReflect(b)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%q: error %v, reference %v", b, gotErr, wantErr)
	}
	if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken || got.TokenType != want.TokenType ||
		got.Cookies != want.Cookies || !sameTime(got.ExpiresAt, want.ExpiresAt) || !sameTime(got.IssuedAt, want.IssuedAt) {
		t.Fatalf("%q:\ngot       %+v\nreference %+v", b, got, want)
	}
}

// FuzzDecodeEntry: a cache item's plaintext is parsed by DecodeEntry on
// every hit. Whatever it holds: the same result as encoding/json's decoding
// (decodeEntryReflect) unless a key matches only case-insensitively, no
// panic, an error that never quotes the input (it holds tokens), and a
// decoded entry survives EncodeEntry → DecodeEntry unchanged.
func FuzzDecodeEntry(f *testing.F) {
	good, _ := EncodeEntry(Entry{AccessToken: "vb365-at-x", RefreshToken: "vb365-rt-y", TokenType: "Bearer",
		ExpiresAt: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), Cookies: "a=b; c=d", IssuedAt: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)})
	for _, s := range []string{string(good), `{"v":1}`, `{"v":2,"access_token":"a"}`, `{"access_token":"a"}`, `{"v":1} {}`,
		`{"v":1,"expires_at":"10000-01-01T00:00:00Z"}`, `{"v":1,"expires_at":"2026-11-23T08:00:00+23:59"}`, `null`, ``, `{"v":1.0}`,
		`{"v":1,"access_token":"a\u00e9\ud83d\ude00\ud800x\\\"\/\b\f\n\r\t"}`, "{\"v\":1,\"cookies\":\"\xff\xc3\"}",
		`{"v":1,"x":[1,-0.5e+3,true,false,null,{"y":{}},[]],"access_token":null}`, `{"v":1,"v":null}`, `{"v":-0}`,
		`{"v":1} ]`, `null x`, `nullx`, `{"v":1,"access_token":"a","access_token":"b","access_token":null}`,
		`{"v":1,"expires_at":"2026-11-23T08:00:00.123456789-07:00","issued_at":null}`, `{"v":1,"expires_at":"2026-11-23T08:00:00\u005a"}`,
		`{"v":1,"acce\u0073s_token":"k"}`, `{"V":1}`, `{"v":1,"expires_at":1}`, `{"v":1,"access_token":1}`, `{"v":1,}`, "\t{ \"v\" : 1 }\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !foldedKey(b, entryKeys) {
			sameDecode(t, b)
		}
		e, err := DecodeEntry(b)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "cache entry ") || strings.ContainsAny(msg, "\n\r") || len(msg) > 80 {
				t.Fatalf("error %q", msg)
			}
			return
		}
		enc, err := EncodeEntry(e)
		if err != nil {
			// Only a time outside years 0..9999 cannot be encoded: it
			// cannot have come out of JSON either.
			t.Fatalf("a decoded entry cannot be encoded: %v (%v / %v)", err, e.ExpiresAt, e.IssuedAt)
		}
		back, err := DecodeEntry(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if back.AccessToken != e.AccessToken || back.RefreshToken != e.RefreshToken || back.TokenType != e.TokenType ||
			back.Cookies != e.Cookies || !back.ExpiresAt.Equal(e.ExpiresAt) || !back.IssuedAt.Equal(e.IssuedAt) {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, back)
		}
	})
}
