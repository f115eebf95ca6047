package jsonread

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// valid reports whether b is one JSON value, whitespace around it allowed.
func valid(b []byte) bool {
	r := New(b)
	r.SkipSpace()
	return r.Skip(0) && r.AtEnd()
}

var seeds = []string{
	"", " ", "null", "true", "false", "nul", "tru", "0", "-0", "01", "1.", "1.5", "-1e+10", "1E-2", "1e", "-", ".5",
	`""`, `"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800\udc00x"`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", "\"\xff\xc3\"", `"`,
	"{}", "[]", `{"a":1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{1:2}`, `{"a":[{"b":null}],"c":{}}`, " [ 1 , { } ] ",
	"{} {}", "[]]", "\ufeff{}", "{\"a\":\"\u2028\"}",
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	deep := func(n int) string { // n nested arrays and objects
		inner := "1"
		if n%2 == 1 {
			inner = "[]"
		}
		return strings.Repeat(`[{"a":`, n/2) + inner + strings.Repeat("}]", n/2)
	}
	if !valid([]byte(deep(MaxDepth))) || valid([]byte(deep(MaxDepth+1))) {
		t.Errorf("nesting limit is not %d", MaxDepth)
	}
	for _, s := range append(seeds, deep(MaxDepth), deep(MaxDepth+1), deep(MaxDepth-1)) {
		if got, want := valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("valid(%.40q) = %v, json.Valid %v", s, got, want)
		}
	}
}

// FuzzValid: the reader accepts exactly what encoding/json's scanner does,
// and a string reads as encoding/json unquotes it.
func FuzzValid(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := valid(b), json.Valid(b); got != want {
			t.Fatalf("valid(%q) = %v, json.Valid %v", b, got, want)
		}
		r := New(b)
		s, ok := r.String()
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(b[:r.i], &want); err != nil {
			t.Fatalf("String accepted %q: %v", b[:r.i], err)
		}
		if string(s) != want {
			t.Fatalf("String(%q) = %q, encoding/json %q", b[:r.i], s, want)
		}
		raw := New(b)
		if rs, ok := raw.RawString(); !ok || !bytes.Equal(rs, b[:r.i]) {
			t.Fatalf("RawString(%q) = %q, %v", b, rs, ok)
		}
	})
}

func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{`""`, `"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\ud800x"`,
		`"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud800\ud800\udc00"`, "\"\xff\xc3(\xed\xa0\x80\"", `"\uFFFD\uffff"`} {
		r := New([]byte(s))
		got, ok := r.String()
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil || !ok || string(got) != want {
			t.Errorf("String(%s) = %q, %v; encoding/json %q, %v", s, got, ok, want, err)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		in        string
		isInt, ok bool
		rest      string
	}{
		{"0", true, true, ""}, {"-12", true, true, ""}, {"1.5", false, true, ""}, {"1e3,", false, true, ","},
		{"01", true, true, "1"}, {"-", false, false, "-"}, {"1.", false, false, "1."}, {"1e+", false, false, "1e+"},
	} {
		r := New([]byte(c.in))
		raw, isInt, ok := r.Number()
		if ok != c.ok || isInt != c.isInt || string(r.b[r.i:]) != c.rest || ok && string(raw)+c.rest != c.in {
			t.Errorf("Number(%q) = %q, %v, %v; rest %q", c.in, raw, isInt, ok, r.b[r.i:])
		}
	}
}

func TestStringInto(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`"a\u00e9"`, "aé", true},
		{`null`, "kept", true},
		{`7`, "kept", false},
		{`"unterminated`, "kept", false},
	} {
		got := "kept"
		r := New([]byte(tc.in))
		if ok := r.StringInto(&got); ok != tc.ok || got != tc.want {
			t.Errorf("StringInto(%s) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
