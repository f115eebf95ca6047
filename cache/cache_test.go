package cache

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	in := Entry{
		AccessToken:  "at-123",
		RefreshToken: "rt-456",
		TokenType:    "Bearer",
		ExpiresAt:    time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC),
		Cookies:      "x=1; y=2",
		IssuedAt:     time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC),
	}
	b, err := EncodeEntry(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"v":1,`) {
		t.Errorf("encoded entry does not start with the version: %s", b)
	}
	out, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	if !out.ExpiresAt.Equal(in.ExpiresAt) || !out.IssuedAt.Equal(in.IssuedAt) {
		t.Errorf("times differ: %+v vs %+v", out, in)
	}
	out.ExpiresAt, out.IssuedAt, in.ExpiresAt, in.IssuedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if out != in {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}

	// Zero optional fields stay out of the encoding and come back zero.
	b, err = EncodeEntry(Entry{AccessToken: "a", ExpiresAt: time.Unix(0, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"refresh_token", "cookies", "issued_at", "token_type"} {
		if strings.Contains(string(b), f) {
			t.Errorf("zero %s encoded: %s", f, b)
		}
	}
	out, err = DecodeEntry(b)
	if err != nil || out.AccessToken != "a" || !out.IssuedAt.IsZero() || out.RefreshToken != "" {
		t.Errorf("decode minimal: %+v, %v", out, err)
	}
}

func TestDecodeEntryGarbage(t *testing.T) {
	for _, in := range []string{
		"",
		"garbage-secret-token",
		"[1,2]",
		`{"access_token":"secret-token"}`,       // no version
		`{"v":2,"access_token":"secret-token"}`, // future version
		`{"v":"1","access_token":"secret-token"}`,  // wrong type
		`{"v":1,"access_token":"secret-token"} {}`, // trailing data
		`{"v":1,"access_token":"secret-token"`,     // truncated
		`{"v":1,"expires_at":"not a time secret-token"}`,
	} {
		_, err := DecodeEntry([]byte(in))
		if err == nil {
			t.Errorf("DecodeEntry(%q) = nil error", in)
			continue
		}
		if strings.Contains(err.Error(), "secret-token") {
			t.Errorf("DecodeEntry(%q) error quotes the input: %v", in, err)
		}
	}
}

func TestKey(t *testing.T) {
	base := []string{"vb365", "https://vb365:4443", `corp\svc`, "password", "", ""}
	k := func(f []string) string { return Key(f[0], f[1], f[2], f[3], f[4], f[5]) }
	got := k(base)
	// Pinned: a changed derivation would orphan every cached session.
	if got != pinnedKey {
		t.Errorf("Key changed: got %s want %s", got, pinnedKey)
	}
	if len(got) != 64 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Errorf("Key is not lowercase hex SHA-256: %q", got)
	}
	if k(base) != got {
		t.Error("Key is not stable")
	}
	if err := CheckKey(got); err != nil {
		t.Errorf("Key output rejected by checkKey: %v", err)
	}
	seen := map[string]int{got: -1}
	for i := range base {
		f := append([]string(nil), base...)
		f[i] += "x"
		kk := k(f)
		if j, dup := seen[kk]; dup {
			t.Errorf("changing field %d gives the key of case %d", i, j)
		}
		seen[kk] = i
	}
	if Key("ab", "c", "", "", "", "") == Key("a", "bc", "", "", "", "") {
		t.Error(`("ab","c") and ("a","bc") share a key`)
	}
	if Key("a", "", "b", "", "", "") == Key("a", "b", "", "", "", "") {
		t.Error("moving a value to another field keeps the key")
	}
	if Key("", "", "", "", "", "") == Key("", "", "", "", "", "\x00") {
		t.Error("empty vs NUL share a key")
	}
}

const pinnedKey = "3d19a79b62eb5c66747475e50db76e52fa66dd149d359f332a6a2a3e1e9d3150"

func TestUnavailableError(t *testing.T) {
	inner := errors.New("inner\nsecond line")
	err := fmt.Errorf("outer: %w", &UnavailableError{Msg: "keyring locked", Err: inner})
	if !IsUnavailable(err) {
		t.Error("IsUnavailable(wrapped) = false")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Error("errors.Is(err, ErrUnavailable) = false")
	}
	if !errors.Is(err, inner) {
		t.Error("UnavailableError does not unwrap")
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("message is not one line: %q", err)
	}
	if IsUnavailable(ErrNotFound) || IsUnavailable(nil) {
		t.Error("IsUnavailable true for a non-unavailable error")
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"", ".x", "../x", "a/b", `a\b`, "a b", "a:b", strings.Repeat("a", 201), "-x"} {
		if CheckKey(k) == nil {
			t.Errorf("CheckKey(%q) accepted", k)
		}
	}
	for _, k := range []string{"a", Key("", "", "", "", "", "") + ".password", "A-b_c.d"} {
		if err := CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v", k, err)
		}
	}
}

func TestOpenUnknownBackend(t *testing.T) {
	_, err := Open(Config{Backend: "nope", Dir: t.TempDir()})
	if err == nil || IsUnavailable(err) {
		t.Fatalf("unknown backend: %v (want a configuration error)", err)
	}
}
