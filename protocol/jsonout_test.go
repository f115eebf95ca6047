package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The json answers are written by hand (appendCredentialJSON,
// WriteExecCredential, appendJSONString); these tests hold them to the bytes
// encoding/json writes for the structs they replaced.

// credentialJSON is the struct Write's json format used to encode.
type credentialJSON struct {
	Profile     string `json:"profile"`
	Product     string `json:"product"`
	URL         string `json:"url"`
	Username    string `json:"username"`
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
	ExpiresAt   string `json:"expires_at,omitempty"`
	Source      string `json:"source"`
}

// execCredentialOut is the struct WriteExecCredential used to encode.
type execCredentialOut struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Status     struct {
		ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
		Token               string `json:"token"`
	} `json:"status"`
}

// encodeRef is what json.Encoder.Encode writes for v with HTML escaping off.
func encodeRef(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkJSONString(t *testing.T, s string) {
	t.Helper()
	want := strings.TrimSuffix(encodeRef(t, s), "\n")
	if got := string(appendJSONString(nil, s)); got != want {
		t.Fatalf("appendJSONString(%q) = %s, encoding/json %s", s, got, want)
	}
	// Appending keeps what is there.
	if got := string(appendJSONString([]byte("x"), s)); got != "x"+want {
		t.Fatalf("appendJSONString(x, %q) = %s", s, got)
	}
}

func TestAppendJSONString(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 0x80; c++ {
		all.WriteByte(byte(c))
		checkJSONString(t, string(rune(c)))
	}
	for _, s := range []string{
		"", all.String(), "plain", `a"b\c/d`, "<>&'", "\u2028\u2029", "a\u2028b\u2029c\u202a\u2027",
		"é😀\ufffd\uffff", "\xff", "a\xffb", "\xc3", "\xc3(", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", "x\xe2\x80\xa8\xe2\x80",
		"\x7f\x00\x1f\b\f\n\r\t\v", strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 60),
	} {
		checkJSONString(t, s)
	}
	// The short forms and \u00xx are what the reference writes.
	if got := string(appendJSONString(nil, "\b\f\n\r\t\x00\x1f\x7f")); got != `"\b\f\n\r\t\u0000\u001f`+"\x7f"+`"` {
		t.Errorf("got %s", got)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\x00\x1f\"\\<>&", "\u2028\u2029", "\xff\xfe", "é😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkJSONString(t, s)
		got := appendJSONString(nil, s)
		if !utf8.Valid(got) || !json.Valid(got) {
			t.Fatalf("not valid JSON: %q", got)
		}
	})
}

// expiry makes the expiry of a fuzzed answer: zero, or any instant in any
// offset.
func expiry(zero bool, sec, nsec int64, offset int) time.Time {
	if zero {
		return time.Time{}
	}
	return time.Unix(sec, nsec).In(time.FixedZone("z", offset%(100*3600)))
}

func checkWriteJSON(t *testing.T, c Credential) {
	t.Helper()
	var b bytes.Buffer
	err := Write(&b, FormatJSON, c)
	if c.AccessToken == "" || hasControl(c.AccessToken) || c.TokenType != "" && (hasControl(c.TokenType) || strings.ContainsRune(c.TokenType, ' ')) {
		if err == nil {
			t.Fatalf("Write(%+v) accepted", c)
		}
		return
	}
	if err != nil {
		t.Fatalf("Write(%+v): %v", c, err)
	}
	tt := c.TokenType
	if tt == "" {
		tt = "Bearer"
	}
	want := encodeRef(t, credentialJSON{Profile: c.Profile, Product: c.Product, URL: c.URL, Username: c.Username,
		TokenType: tt, AccessToken: c.AccessToken, ExpiresAt: FormatTime(c.ExpiresAt), Source: c.Source})
	if b.String() != want {
		t.Fatalf("Write json:\ngot           %s\nencoding/json %s", b.String(), want)
	}
}

func checkWriteExec(t *testing.T, apiVersion, token string, exp time.Time) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteExecCredential(&b, apiVersion, token, exp); err != nil {
		if token != "" {
			t.Fatalf("WriteExecCredential: %v", err)
		}
		return
	}
	var ref execCredentialOut
	ref.Kind, ref.APIVersion = ExecKind, apiVersion
	ref.Status.ExpirationTimestamp, ref.Status.Token = FormatTime(exp), token
	if want := encodeRef(t, ref); b.String() != want {
		t.Fatalf("WriteExecCredential:\ngot           %s\nencoding/json %s", b.String(), want)
	}
}

func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	weird := "a\"\\/<>&\u2028\u2029\xff\x00\x1f\x7fé😀\t\n"
	for _, c := range []Credential{
		testCred(),
		benchCred,
		{AccessToken: "t"},
		{Profile: weird, Product: weird, URL: weird, Username: weird, TokenType: "x<y>&\u2028\xff", AccessToken: "t\u2029\xfe\"\\<", Source: weird,
			ExpiresAt: time.Date(2026, 11, 23, 8, 0, 0, 999, time.FixedZone("x", -3600))},
		{AccessToken: "t", ExpiresAt: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)},
		{AccessToken: "t", ExpiresAt: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		checkWriteJSON(t, c)
	}
	for _, v := range []string{ExecV1, ExecV1beta1} {
		for _, tok := range []string{"t", benchCred.AccessToken, "a\"\\/<>&\u2028\u2029\xff\x00\x1f\x7f\n"} {
			checkWriteExec(t, v, tok, time.Time{})
			checkWriteExec(t, v, tok, time.Date(2026, 11, 23, 9, 0, 0, 500, time.FixedZone("CET", 3600)))
		}
	}
}

func FuzzWriteJSON(f *testing.F) {
	f.Add("prod", "vb365", "https://vb365:4443", `corp\svc`, "Bearer", "tok", "cache", false, int64(1795420800), int64(0), 0)
	f.Add("", "", "", "", "", "t\u2028\xff<", "", true, int64(0), int64(0), 0)
	f.Add("\x00\u2029", "\xff", "<&>", "\"\\", "B\xfe", "t", "\n", false, int64(-62135596801), int64(999999999), -3600)
	f.Fuzz(func(t *testing.T, profile, product, url, username, tokenType, token, source string, zero bool, sec, nsec int64, offset int) {
		checkWriteJSON(t, Credential{Profile: profile, Product: product, URL: url, Username: username, TokenType: tokenType,
			AccessToken: token, Source: source, ExpiresAt: expiry(zero, sec, nsec, offset)})
	})
}

func FuzzWriteExecCredential(f *testing.F) {
	f.Add(true, "tok", false, int64(1795420800), int64(0), 3600)
	f.Add(false, "t\u2028\xff<\x00\"", true, int64(0), int64(0), 0)
	f.Add(true, "", false, int64(-62135596801), int64(1), 0)
	f.Fuzz(func(t *testing.T, v1 bool, token string, zero bool, sec, nsec int64, offset int) {
		v := ExecV1beta1
		if v1 {
			v = ExecV1
		}
		checkWriteExec(t, v, token, expiry(zero, sec, nsec, offset))
	})
}
