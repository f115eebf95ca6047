package cache

import (
	"strings"
	"testing"
	"time"
)

// FuzzDecodeEntry: a cache item's plaintext is parsed by DecodeEntry on
// every miss. Whatever it holds: no panic, an error that never quotes the input (it holds tokens), and a
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
