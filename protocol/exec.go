package protocol

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
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
func ParseExecInfo(env string) (ExecInfo, error) {
	if strings.TrimSpace(env) == "" {
		return ExecInfo{APIVersion: ExecV1}, nil
	}
	var v struct {
		APIVersion *string `json:"apiVersion"`
		Kind       *string `json:"kind"`
		Spec       *struct {
			Interactive *bool `json:"interactive"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(env), &v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: field %q has the wrong type", clip(te.Field))
		}
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO is not a JSON object")
	}
	if v.Kind == nil || *v.Kind != ExecKind {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: kind must be %q", ExecKind)
	}
	if v.APIVersion == nil {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: apiVersion is missing")
	}
	if *v.APIVersion != ExecV1 && *v.APIVersion != ExecV1beta1 {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: unsupported apiVersion %q (supported: %s, %s)",
			clip(*v.APIVersion), ExecV1, ExecV1beta1)
	}
	interactive := v.Spec != nil && v.Spec.Interactive != nil && *v.Spec.Interactive
	return ExecInfo{APIVersion: *v.APIVersion, Interactive: interactive}, nil
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
