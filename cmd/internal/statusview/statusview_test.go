package statusview

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
)

func TestSelect(t *testing.T) {
	names := []string{"vb365", "vbazure", "vbr", "vone"}
	for _, tc := range []struct {
		pattern string
		want    string
		err     string
	}{
		{"", "vb365 vbazure vbr vone", ""},
		{"vbr", "vbr", ""},
		{"vb*", "vb365 vbazure vbr", ""},
		{"v?ne", "vone", ""},
		{"nope", "", `unknown profile "nope" (have: vb365, vbazure, vbr, vone)`},
		{"x*", "", `no profile matches "x*"`},
		{"[", "", "not a profile name or glob"},
	} {
		got, err := Select(names, tc.pattern)
		if tc.err != "" {
			if err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v %v", tc.pattern, got, err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%q: %v %v", tc.pattern, got, err)
		}
	}
}

func TestRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:                           "45s",
		59*time.Minute + 31*time.Second:            "59m",
		2*time.Hour + 5*time.Minute:                "2h5m",
		3 * time.Hour:                              "3h",
		3*24*time.Hour + 4*time.Hour + time.Minute: "3d4h",
	} {
		if got := Relative(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

// The table words times relative to now next to the absolute time, marks
// the default profile and keeps errors in their own column; JSON says null
// for an absent time or error.
func TestTableAndJSON(t *testing.T) {
	now := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	rows := Rows([]helper.Status{
		{Profile: "a", Product: "vb365", URL: "https://a:4443", Username: "u", Backend: "file", ValidUntil: now.Add(59*time.Minute + 10*time.Second), Valid: true, SecretStored: true},
		{Profile: "b", Product: "vbr", URL: "https://b:9419", Username: "v", Backend: "file", ValidUntil: now.Add(-3 * time.Minute), RefreshTokenPresent: true},
		{Profile: "c", Product: "vone", URL: "https://c:1239", Username: "w", Backend: "file", Error: "token cache unavailable: wrong passphrase"},
	}, "b")
	var out bytes.Buffer
	if err := WriteTable(&out, rows, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "SECRET STORED") || !strings.HasSuffix(strings.TrimSpace(lines[0]), "ERROR") {
		t.Fatalf("table:\n%s", out.String())
	}
	for i, want := range []string{
		"valid 59m (until 2026-12-01 06:59:10 UTC)",
		"b (default)",
		"expired 3m ago (2026-12-01 05:57:00 UTC)",
		"wrong passphrase",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("%d: no %q in\n%s", i, want, out.String())
		}
	}
	if !strings.Contains(lines[3], " none ") || strings.Contains(lines[1], "(default)") {
		t.Errorf("rows:\n%s", out.String())
	}
	out.Reset()
	if err := WriteJSON(&out, rows); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back[2]["access_token_valid_until"] != nil || back[0]["error"] != nil || back[1]["default"] != true ||
		back[0]["access_token_valid_until"] != "2026-12-01T06:59:10Z" || back[2]["error"] != "token cache unavailable: wrong passphrase" {
		t.Errorf("JSON: %s", out.String())
	}
	if strings.Contains(out.String(), "0001-01-01") {
		t.Errorf("a zero time in JSON: %s", out.String())
	}
}
