package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testExpiry = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("CET", 3600))

func testCred() Credential {
	return Credential{
		Profile:     "prod",
		Product:     "vb365",
		URL:         "https://vb365:4443",
		Username:    `corp\svc`,
		TokenType:   "Bearer",
		AccessToken: secretTok,
		ExpiresAt:   testExpiry.Add(123 * time.Millisecond),
		Source:      "cache",
	}
}

func TestWrite(t *testing.T) {
	noExpiry := testCred()
	noExpiry.ExpiresAt = time.Time{}
	noType := testCred()
	noType.TokenType = ""
	html := testCred()
	html.URL = "https://h/?a=1&b=<2>"
	quoteTok := testCred()
	quoteTok.AccessToken = `a"b\c'd $e`

	tests := []struct {
		name   string
		format string
		c      Credential
		want   string
	}{
		{"json", FormatJSON, testCred(),
			`{"profile":"prod","product":"vb365","url":"https://vb365:4443","username":"corp\\svc","token_type":"Bearer","access_token":"` + secretTok + `","expires_at":"2026-11-23T08:00:00Z","source":"cache"}` + "\n"},
		{"json no expiry", FormatJSON, noExpiry,
			`{"profile":"prod","product":"vb365","url":"https://vb365:4443","username":"corp\\svc","token_type":"Bearer","access_token":"` + secretTok + `","source":"cache"}` + "\n"},
		{"json default token type", FormatJSON, noType,
			`{"profile":"prod","product":"vb365","url":"https://vb365:4443","username":"corp\\svc","token_type":"Bearer","access_token":"` + secretTok + `","expires_at":"2026-11-23T08:00:00Z","source":"cache"}` + "\n"},
		{"json no html escaping", FormatJSON, html,
			`{"profile":"prod","product":"vb365","url":"https://h/?a=1&b=<2>","username":"corp\\svc","token_type":"Bearer","access_token":"` + secretTok + `","expires_at":"2026-11-23T08:00:00Z","source":"cache"}` + "\n"},
		{"json empty fields present", FormatJSON, Credential{AccessToken: "t"},
			`{"profile":"","product":"","url":"","username":"","token_type":"Bearer","access_token":"t","source":""}` + "\n"},
		{"token", FormatToken, testCred(), secretTok + "\n"},
		{"header", FormatHeader, testCred(), "Authorization: Bearer " + secretTok + "\n"},
		{"header default type", FormatHeader, noType, "Authorization: Bearer " + secretTok + "\n"},
		{"curl", FormatCurl, testCred(), `header = "Authorization: Bearer ` + secretTok + `"` + "\n"},
		{"curl escapes", FormatCurl, quoteTok, `header = "Authorization: Bearer a\"b\\c'd $e"` + "\n"},
		{"env", FormatEnv, testCred(), "VEEAM_ACCESS_TOKEN=" + secretTok + "\nVEEAM_TOKEN_EXPIRES_AT=2026-11-23T08:00:00Z\n"},
		{"env no expiry", FormatEnv, noExpiry, "VEEAM_ACCESS_TOKEN=" + secretTok + "\nVEEAM_TOKEN_EXPIRES_AT=''\n"},
		{"env quoting", FormatEnv, quoteTok, `VEEAM_ACCESS_TOKEN='a"b\c'\''d $e'` + "\nVEEAM_TOKEN_EXPIRES_AT=2026-11-23T08:00:00Z\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkWrites(t, func(w io.Writer) error { return Write(w, tt.format, tt.c) }, tt.want)
		})
	}
}

func TestWriteJSONMatchesDesignKeys(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, FormatJSON, testCred()); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("not one line: %q", b.String())
	}
	var m map[string]string
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"profile": "prod", "product": "vb365", "url": "https://vb365:4443", "username": `corp\svc`,
		"token_type": "Bearer", "access_token": secretTok, "expires_at": "2026-11-23T08:00:00Z", "source": "cache",
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %v", m)
	}
}

func TestWriteErrors(t *testing.T) {
	withTok := func(tok string) Credential { c := testCred(); c.AccessToken = tok; return c }
	withType := func(tt string) Credential { c := testCred(); c.TokenType = tt; return c }
	tests := []struct {
		name    string
		format  string
		c       Credential
		wantErr string
	}{
		{"unknown format", "yaml", testCred(), `unknown output format "yaml" (known: json, token, header, curl, env)`},
		{"empty format", "", testCred(), "unknown output format"},
		{"empty token", FormatToken, withTok(""), "empty access token"},
		{"newline in token", FormatHeader, withTok(secretTok + "\nX-Evil: 1"), "control character"},
		{"CR in token", FormatToken, withTok(secretTok + "\r"), "control character"},
		{"NUL in token", FormatEnv, withTok(secretTok + "\x00"), "control character"},
		{"newline in token json", FormatJSON, withTok(secretTok + "\n"), "control character"},
		{"space in token type", FormatHeader, withType("Bearer x"), "token type"},
		{"newline in token type", FormatHeader, withType("Bearer\n"), "token type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefuses(t, func(w io.Writer) error { return Write(w, tt.format, tt.c) }, tt.wantErr)
		})
	}
	err := Write(new(bytes.Buffer), "xml", testCred())
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format error %v does not wrap ErrUnknownFormat", err)
	}
}

func TestWriteEveryFormat(t *testing.T) {
	for _, f := range Formats() {
		var b bytes.Buffer
		if err := Write(&b, f, testCred()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if !strings.HasSuffix(b.String(), "\n") || !strings.Contains(b.String(), secretTok) {
			t.Errorf("%s: %q", f, b.String())
		}
	}
	f := Formats()
	f[0] = "changed"
	if Formats()[0] != FormatJSON {
		t.Error("Formats shares its slice")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWritersReportWriteErrors(t *testing.T) {
	if err := Write(failWriter{}, FormatToken, testCred()); err == nil {
		t.Error("Write: no error")
	}
	if err := WriteError(failWriter{}, ErrorBody{Code: "x"}); err == nil {
		t.Error("WriteError: no error")
	}
	if err := WriteGit(failWriter{}, GitAnswer{Password: "x"}); err == nil {
		t.Error("WriteGit: no error")
	}
	if err := WriteExecCredential(failWriter{}, ExecV1, "x", time.Time{}); err == nil {
		t.Error("WriteExecCredential: no error")
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name string
		e    ErrorBody
		want string
	}{
		{"design example", ErrorBody{Code: "invalid_credentials", Message: "bad password", ExitCode: 3},
			`{"error":{"code":"invalid_credentials","message":"bad password","exit_code":3}}` + "\n"},
		{"newline escaped", ErrorBody{Code: "x", Message: "a\nb <c> & \"d\"", ExitCode: 1},
			`{"error":{"code":"x","message":"a\nb <c> & \"d\"","exit_code":1}}` + "\n"},
		{"zero", ErrorBody{}, `{"error":{"code":"","message":"","exit_code":0}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkWrites(t, func(w io.Writer) error { return WriteError(w, tt.e) }, tt.want)
		})
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"abc", "abc"},
		{"eyJ0.eyJz-_x/+@%:,", "eyJ0.eyJz-_x/+@%:,"},
		{"2026-11-23T08:00:00Z", "2026-11-23T08:00:00Z"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"`x`", "'`x`'"},
		{"a=b", "'a=b'"},
		{"~root", "'~root'"},
		{"new\nline", "'new\nline'"},
		{"é", "'é'"},
		{"*", "'*'"},
		{"!", "'!'"},
	}
	for _, tt := range tests {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestShellQuoteRoundTrip evaluates quoted strings with /bin/sh when present.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, s := range []string{"", "plain", "a b", "it's", `"dq" \ back`, "$HOME `id` $(id)", "new\nline", "tab\there", "*?[a]", "!x", "é ü", "''''"} {
		out, err := exec.Command(sh, "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("sh round trip of %q gave %q", s, out)
		}
		// And through the env format with eval.
		c := Credential{AccessToken: "x", ExpiresAt: testExpiry}
		if !hasControl(s) && s != "" {
			c.AccessToken = s
			var b bytes.Buffer
			if err := Write(&b, FormatEnv, c); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(sh, "-c", `eval "$1"; printf '%s|%s' "$VEEAM_ACCESS_TOKEN" "$VEEAM_TOKEN_EXPIRES_AT"`, "sh", b.String()).Output()
			if err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			if want := s + "|2026-11-23T08:00:00Z"; string(out) != want {
				t.Errorf("eval of env format gave %q, want %q", out, want)
			}
		}
	}
}

func TestCurlQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"Authorization: Bearer x", `"Authorization: Bearer x"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"t\tn\nr\rv\v", `"t\tn\nr\rv\v"`},
		{"é", `"é"`},
	}
	for _, tt := range tests {
		if got := CurlQuote(tt.in); got != tt.want {
			t.Errorf("CurlQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, ""},
		{testExpiry, "2026-11-23T08:00:00Z"},
		{testExpiry.Add(999 * time.Millisecond), "2026-11-23T08:00:00Z"},
		{time.Unix(0, 0), "1970-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		if got := FormatTime(tt.in); got != tt.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
