package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Credential is what `get` answers.
type Credential struct {
	Profile, Product, URL, Username string
	TokenType                       string // "Bearer" (the default when empty)
	AccessToken                     string
	ExpiresAt                       time.Time // zero: no known expiry
	Source                          string    // cache | refresh | grant
}

// Output formats of `get --format`.
const (
	FormatJSON   = "json"
	FormatToken  = "token"
	FormatHeader = "header"
	FormatCurl   = "curl"
	FormatEnv    = "env"
)

// Names of the variables written by FormatEnv.
const (
	EnvAccessToken    = "VEEAM_ACCESS_TOKEN"
	EnvTokenExpiresAt = "VEEAM_TOKEN_EXPIRES_AT"
)

// ErrUnknownFormat is wrapped by the error Write returns for a format it
// does not know (a usage error).
var ErrUnknownFormat = errors.New("unknown output format")

// Formats lists the output formats Write knows, default first. The slice is
// the caller's to keep.
func Formats() []string {
	return []string{FormatJSON, FormatToken, FormatHeader, FormatCurl, FormatEnv}
}

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

// FormatTime renders t the way every format here does: RFC 3339 in UTC,
// whole seconds ("2026-11-23T08:00:00Z"). The zero time gives "".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// Write writes c to w in the given format, all in a single Write call:
//
//   - json:   one line, {"profile","product","url","username","token_type",
//     "access_token","expires_at","source"} in that order; every key is
//     always present except expires_at, left out when ExpiresAt is zero.
//     HTML characters are not escaped.
//   - token:  the bare token and "\n".
//   - header: "Authorization: Bearer <token>\n".
//   - curl:   `header = "Authorization: Bearer <token>"` and "\n", quoted
//     per curl's config file rules, for `curl -K -`.
//   - env:    "VEEAM_ACCESS_TOKEN=<v>\nVEEAM_TOKEN_EXPIRES_AT=<v>\n", values
//     quoted with ShellQuote so the output is safe for `eval`. These are plain
//     assignments, not exports: use `set -a` or `export` when child processes
//     need them. VEEAM_TOKEN_EXPIRES_AT is ” when the expiry is unknown.
//
// The token type defaults to "Bearer". An empty access token, or a token or
// token type containing a control character (which would split lines or
// headers), is an error; so is an unknown format (wrapping ErrUnknownFormat,
// and listing the known ones). Error messages never contain the token.
func Write(w io.Writer, format string, c Credential) error {
	if c.TokenType == "" {
		c.TokenType = "Bearer"
	}
	if c.AccessToken == "" {
		return errors.New("credential has an empty access token")
	}
	if hasControl(c.AccessToken) {
		return errors.New("access token contains a control character")
	}
	if hasControl(c.TokenType) || strings.ContainsRune(c.TokenType, ' ') {
		return errors.New("token type contains a space or control character")
	}
	var b bytes.Buffer
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(credentialJSON{
			Profile:     c.Profile,
			Product:     c.Product,
			URL:         c.URL,
			Username:    c.Username,
			TokenType:   c.TokenType,
			AccessToken: c.AccessToken,
			ExpiresAt:   FormatTime(c.ExpiresAt),
			Source:      c.Source,
		}); err != nil {
			return err
		}
	case FormatToken:
		b.WriteString(c.AccessToken + "\n")
	case FormatHeader:
		b.WriteString("Authorization: " + c.TokenType + " " + c.AccessToken + "\n")
	case FormatCurl:
		b.WriteString("header = " + CurlQuote("Authorization: "+c.TokenType+" "+c.AccessToken) + "\n")
	case FormatEnv:
		b.WriteString(EnvAccessToken + "=" + ShellQuote(c.AccessToken) + "\n")
		b.WriteString(EnvTokenExpiresAt + "=" + ShellQuote(FormatTime(c.ExpiresAt)) + "\n")
	default:
		return fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, clip(format), strings.Join(Formats(), ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ErrorBody is the failure answer of JSON protocol v1.
type ErrorBody struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	ExitCode int    `json:"exit_code"`
}

// WriteError writes {"error":{"code":…,"message":…,"exit_code":…}} and a
// newline: one line, since JSON escapes any newline in the message.
func WriteError(w io.Writer, e ErrorBody) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Error ErrorBody `json:"error"`
	}{e}); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ShellQuote quotes s as one word for POSIX shells (sh, bash, zsh, dash):
// s unchanged when it is non-empty and made only of ASCII letters, digits and
// "@%+:,./_-", otherwise s inside single quotes, each ' written as '\”.
// The result is safe to eval whatever s holds.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellSafe(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("@%+:,./_-", r)
}

// CurlQuote quotes s as a double-quoted parameter of a curl config file
// (curl -K): backslash and double quote are escaped with a backslash, and
// tab, newline, carriage return and vertical tab become \t \n \r \v.
func CurlQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\v':
			b.WriteString(`\v`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hasControl reports whether s holds an ASCII control character or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
