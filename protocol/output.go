package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Credential is a usable access token for a profile: what `get` writes and
// what the go-plugin interface (integrations/goplugin) answers.
type Credential struct {
	// Profile is the configuration's profile name.
	Profile string
	// Product is the profile's Veeam product, e.g. "vbr" or "vb365".
	Product string
	// URL is the server's base URL.
	URL string
	// Username is the identity the token was granted to.
	Username string
	// TokenType is "Bearer" (the default when empty).
	TokenType string
	// AccessToken is the bearer token.
	AccessToken string
	// ExpiresAt is when the token expires; zero means no known expiry.
	ExpiresAt time.Time
	// Source is "cache", "refresh" or "grant".
	Source string
}

// String describes the credential without its token, so that printing or
// logging one by mistake leaks nothing.
func (c Credential) String() string {
	return fmt.Sprintf("credential{profile=%q product=%s url=%s user=%q expires_at=%s source=%s token=<redacted>}",
		c.Profile, c.Product, c.URL, c.Username, c.ExpiresAt.UTC().Format(time.RFC3339), c.Source)
}

// GoString is String: %#v does not print the token either.
func (c Credential) GoString() string { return c.String() }

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
	var b []byte
	if format == FormatJSON {
		b = make([]byte, 0, 160+len(c.Profile)+len(c.Product)+len(c.URL)+len(c.Username)+
			len(c.TokenType)+len(c.AccessToken)+len(c.Source))
	} else {
		b = make([]byte, 0, 64+len(c.TokenType)+len(c.AccessToken))
	}
	switch format {
	case FormatJSON:
		b = appendCredentialJSON(b, c)
	case FormatToken:
		b = append(b, c.AccessToken...)
		b = append(b, '\n')
	case FormatHeader:
		b = append(b, "Authorization: "...)
		b = append(b, c.TokenType...)
		b = append(b, ' ')
		b = append(b, c.AccessToken...)
		b = append(b, '\n')
	case FormatCurl:
		b = append(b, "header = "...)
		b = append(b, CurlQuote("Authorization: "+c.TokenType+" "+c.AccessToken)...)
		b = append(b, '\n')
	case FormatEnv:
		b = append(b, EnvAccessToken+"="...)
		b = append(b, ShellQuote(c.AccessToken)...)
		b = append(b, "\n"+EnvTokenExpiresAt+"="...)
		b = append(b, ShellQuote(FormatTime(c.ExpiresAt))...)
		b = append(b, '\n')
	default:
		return fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, clip(format), strings.Join(Formats(), ", "))
	}
	_, err := w.Write(b)
	return err
}

// appendCredentialJSON appends the json format's line. It is written by hand
// rather than by encoding/json, whose first use of a struct type builds its
// encoder by reflection: a noticeable part of a process that answers a cache
// hit. The bytes are those of json.Encoder.Encode with SetEscapeHTML(false)
// on the struct
//
//	{Profile `json:"profile"`; Product `json:"product"`; URL `json:"url"`;
//	 Username `json:"username"`; TokenType `json:"token_type"`;
//	 AccessToken `json:"access_token"`; ExpiresAt `json:"expires_at,omitempty"`;
//	 Source `json:"source"`}  (all strings)
//
// (the tests check it against exactly that).
func appendCredentialJSON(b []byte, c Credential) []byte {
	b = append(b, `{"profile":`...)
	b = appendJSONString(b, c.Profile)
	b = append(b, `,"product":`...)
	b = appendJSONString(b, c.Product)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, c.URL)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, c.Username)
	b = append(b, `,"token_type":`...)
	b = appendJSONString(b, c.TokenType)
	b = append(b, `,"access_token":`...)
	b = appendJSONString(b, c.AccessToken)
	if exp := FormatTime(c.ExpiresAt); exp != "" {
		b = append(b, `,"expires_at":`...)
		b = appendJSONString(b, exp)
	}
	b = append(b, `,"source":`...)
	b = appendJSONString(b, c.Source)
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string, byte for byte as encoding/json
// writes a string with HTML escaping off (Go 1.26, encode.go appendString):
// '"' and '\\' escaped with a backslash; \b \f \n \r \t in their short
// forms and the other bytes below 0x20 as \u00xx (lower-case hex); each byte
// of invalid UTF-8 as \ufffd; U+2028 and U+2029 as \u2028 and \u2029;
// everything else (DEL, '<', '>', '&' included) as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c-0x20 < utf8.RuneSelf-0x20 && c != '"' && c != '\\' { // printable ASCII or DEL
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ErrorBody is the failure answer of JSON protocol v1; each field is the
// key in its tag.
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
