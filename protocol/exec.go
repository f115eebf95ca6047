package protocol

import (
	"errors"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/veeam-tools/veeam-credential-helper/internal/jsonread"
)

// API versions of client-go's exec credential plugin protocol
// (k8s.io/client-go/pkg/apis/clientauthentication/v1 and v1beta1).
const (
	ExecV1      = "client.authentication.k8s.io/v1"
	ExecV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// ExecKind is the kind of the objects of the exec plugin protocol.
const ExecKind = "ExecCredential"

// ExecInfo is what the plugin learns from KUBERNETES_EXEC_INFO.
type ExecInfo struct {
	APIVersion  string // ExecV1 or ExecV1beta1
	Interactive bool   // spec.interactive: stdin is the user's terminal
}

// ParseExecInfo parses the value of KUBERNETES_EXEC_INFO, an ExecCredential
// object with apiVersion, kind and spec ({"interactive":bool,"cluster":…}).
// Empty (or all-whitespace) env gives {APIVersion: ExecV1, Interactive: false}.
// Unknown fields (spec.cluster and whatever later client-go versions add) are
// ignored. Bad JSON, a kind other than ExecCredential or an apiVersion other
// than ExecV1 / ExecV1beta1 give a *RequestError that does not quote the
// variable (spec.cluster.config may carry private data).
//
// kubectl sets the variable for every exec-credential call, a cache hit
// included, so it is read by hand (internal/jsonread) rather than with
// encoding/json, whose first decode of a struct type builds its field cache
// by reflection. The results are those of json.Unmarshal into
// {APIVersion *string; Kind *string; Spec *struct{Interactive *bool}} (the
// tests hold it to that): keys matched case-insensitively as encoding/json
// folds them, the last of repeated keys winning, null unsetting a field, a
// repeated spec object merged into the first, the first field of the wrong
// type named in the error unless the JSON is malformed.
func ParseExecInfo(env string) (ExecInfo, error) {
	if strings.TrimSpace(env) == "" {
		return ExecInfo{APIVersion: ExecV1}, nil
	}
	var (
		kind, apiVersion        string
		hasKind, hasAPIVersion  bool
		hasSpec, hasInteractive bool
		interactive             bool
		wrongType               string // the first field of the wrong type
	)
	r := jsonread.New([]byte(env))
	// wrong records a value of the wrong type and skips it.
	wrong := func(field string, depth int) bool {
		if wrongType == "" {
			wrongType = field
		}
		return r.Skip(depth)
	}
	str := func(dst *string, has *bool, field string) bool {
		switch r.Peek() {
		case 'n':
			*has = false
			return r.Literal("null")
		case '"':
			s, ok := r.String()
			*dst, *has = string(s), true
			return ok
		}
		return wrong(field, 1)
	}
	var fold [32]byte
	spec := func(key []byte) bool {
		if string(foldName(fold[:0], key)) != "INTERACTIVE" {
			return r.Skip(2)
		}
		switch r.Peek() {
		case 'n':
			hasInteractive = false
			return r.Literal("null")
		case 't', 'f':
			var ok bool
			interactive, ok = r.Bool()
			hasInteractive = true
			return ok
		}
		return wrong("spec.interactive", 2)
	}
	r.SkipSpace()
	ok := false
	switch r.Peek() {
	case '{':
		ok = r.Object(1, func(key []byte) bool {
			switch string(foldName(fold[:0], key)) {
			case "KIND":
				return str(&kind, &hasKind, "kind")
			case "APIVERSION":
				return str(&apiVersion, &hasAPIVersion, "apiVersion")
			case "SPEC":
				switch r.Peek() {
				case 'n':
					hasSpec, hasInteractive = false, false
					return r.Literal("null")
				case '{':
					if !hasSpec { // a second spec object merges into the first
						hasSpec, hasInteractive = true, false
					}
					return r.Object(2, spec)
				}
				return wrong("spec", 1)
			}
			return r.Skip(1)
		})
	case 'n':
		ok = r.Literal("null")
	}
	if !ok || !r.AtEnd() {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO is not a JSON object")
	}
	if wrongType != "" {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: field %q has the wrong type", wrongType)
	}
	if !hasKind || kind != ExecKind {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: kind must be %q", ExecKind)
	}
	if !hasAPIVersion {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: apiVersion is missing")
	}
	if apiVersion != ExecV1 && apiVersion != ExecV1beta1 {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: unsupported apiVersion %q (supported: %s, %s)",
			clip(apiVersion), ExecV1, ExecV1beta1)
	}
	return ExecInfo{APIVersion: apiVersion, Interactive: hasSpec && hasInteractive && interactive}, nil
}

// foldName folds a JSON key as encoding/json does to match it to a field
// case-insensitively: ASCII letters upper-cased, any other rune replaced by
// the smallest rune of its simple case folding orbit ("\u212a" KELVIN SIGN
// by "K"). It appends to out.
func foldName(out, key []byte) []byte {
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// WriteExecCredential writes the plugin's answer as one line of JSON:
// {"kind":"ExecCredential","apiVersion":…,"status":{"expirationTimestamp":…,"token":…}}.
// spec is left out (client-go does not read it back). expirationTimestamp is
// RFC 3339 UTC in whole seconds, left out when expiresAt is zero (client-go
// then keeps the token until a request gets a 401). apiVersion must be ExecV1
// or ExecV1beta1, normally the one ParseExecInfo returned; the token must not
// be empty. Errors never contain the token.
func WriteExecCredential(w io.Writer, apiVersion string, token string, expiresAt time.Time) error {
	if apiVersion != ExecV1 && apiVersion != ExecV1beta1 {
		return reqErrf("unsupported ExecCredential apiVersion %q (supported: %s, %s)", clip(apiVersion), ExecV1, ExecV1beta1)
	}
	if token == "" {
		return errors.New("ExecCredential: empty token")
	}
	// By hand, not by encoding/json (see appendCredentialJSON): the bytes of
	// json.Encoder.Encode with SetEscapeHTML(false) on
	// {Kind `json:"kind"`; APIVersion `json:"apiVersion"`; Status struct{
	// ExpirationTimestamp `json:"expirationTimestamp,omitempty"`;
	// Token `json:"token"`} `json:"status"`}.
	b := make([]byte, 0, 160+len(apiVersion)+len(token))
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, ExecKind)
	b = append(b, `,"apiVersion":`...)
	b = appendJSONString(b, apiVersion)
	b = append(b, `,"status":{`...)
	if exp := FormatTime(expiresAt); exp != "" {
		b = append(b, `"expirationTimestamp":`...)
		b = appendJSONString(b, exp)
		b = append(b, ',')
	}
	b = append(b, `"token":`...)
	b = appendJSONString(b, token)
	b = append(b, "}}\n"...)
	_, err := w.Write(b)
	return err
}
