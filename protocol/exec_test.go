package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseExecInfo(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want ExecInfo
	}{
		{"empty", "", ExecInfo{APIVersion: ExecV1}},
		{"whitespace", " \n", ExecInfo{APIVersion: ExecV1}},
		{"v1 non-interactive", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`,
			ExecInfo{APIVersion: ExecV1}},
		{"v1 interactive", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`,
			ExecInfo{APIVersion: ExecV1, Interactive: true}},
		{"v1beta1 interactive", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`,
			ExecInfo{APIVersion: ExecV1beta1, Interactive: true}},
		{"no spec", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1"}`,
			ExecInfo{APIVersion: ExecV1beta1}},
		{"null spec", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":null}`,
			ExecInfo{APIVersion: ExecV1}},
		{"cluster info and unknown fields ignored", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",` +
			`"spec":{"cluster":{"server":"https://k8s:6443","certificate-authority-data":"LS0t","config":{"audience":"` + secretCred + `"}},"interactive":true,"future":1},"status":null}`,
			ExecInfo{APIVersion: ExecV1, Interactive: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExecInfo(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v want %+v", got, tt.want)
			}
		})
	}
}

func TestParseExecInfoErrors(t *testing.T) {
	cfg := `"spec":{"cluster":{"config":{"secret":"` + secretCred + `"}}}`
	tests := []struct{ name, env, wantErr string }{
		{"not JSON", secretCred, "not a JSON object"},
		{"truncated", `{"kind":"ExecCredential",` + cfg, "not a JSON object"},
		{"array", `[1]`, "not a JSON object"},
		{"null", `null`, `kind must be "ExecCredential"`},
		{"trailing data", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"} {}`, "not a JSON object"},
		{"wrong kind", `{"kind":"Pod","apiVersion":"client.authentication.k8s.io/v1",` + cfg + `}`, `kind must be "ExecCredential"`},
		{"missing kind", `{"apiVersion":"client.authentication.k8s.io/v1"}`, `kind must be`},
		{"missing apiVersion", `{"kind":"ExecCredential",` + cfg + `}`, "apiVersion is missing"},
		{"v1alpha1", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`,
			`unsupported apiVersion "client.authentication.k8s.io/v1alpha1" (supported: client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1)`},
		{"empty apiVersion", `{"kind":"ExecCredential","apiVersion":""}`, `unsupported apiVersion ""`},
		{"long apiVersion clipped", `{"kind":"ExecCredential","apiVersion":"` + strings.Repeat("v", 500) + `"}`, "…"},
		{"interactive string", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"yes"}}`, "wrong type"},
		{"kind number", `{"kind":1,"apiVersion":"client.authentication.k8s.io/v1"}`, "wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExecInfo(tt.env)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("got %+v, %v; want *RequestError", got, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error too long: %d bytes", len(err.Error()))
			}
			assertNoSecret(t, err.Error())
			if got != (ExecInfo{}) {
				t.Errorf("on error got %+v", got)
			}
		})
	}
}

func TestWriteExecCredential(t *testing.T) {
	exp := time.Date(2026, 11, 23, 9, 0, 0, 500, time.FixedZone("CET", 3600))
	tests := []struct {
		name, apiVersion, token string
		exp                     time.Time
		want                    string
	}{
		{"v1", ExecV1, secretTok, exp,
			`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"expirationTimestamp":"2026-11-23T08:00:00Z","token":"` + secretTok + `"}}` + "\n"},
		{"v1beta1", ExecV1beta1, secretTok, exp,
			`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"expirationTimestamp":"2026-11-23T08:00:00Z","token":"` + secretTok + `"}}` + "\n"},
		{"no expiry", ExecV1, "t<&>", time.Time{},
			`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t<&>"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteExecCredential(&b, tt.apiVersion, tt.token, tt.exp); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Fatalf("got  %s\nwant %s", b.String(), tt.want)
			}
			// What client-go decodes: the v1 / v1beta1 field names.
			var back struct {
				Kind       string `json:"kind"`
				APIVersion string `json:"apiVersion"`
				Status     *struct {
					ExpirationTimestamp *time.Time `json:"expirationTimestamp"`
					Token               string     `json:"token"`
				} `json:"status"`
			}
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if back.Kind != "ExecCredential" || back.APIVersion != tt.apiVersion || back.Status == nil || back.Status.Token != tt.token {
				t.Fatalf("decoded %+v", back)
			}
			if !tt.exp.IsZero() && !back.Status.ExpirationTimestamp.Equal(tt.exp.Truncate(time.Second)) {
				t.Errorf("expiry %v", back.Status.ExpirationTimestamp)
			}
		})
	}
}

func TestWriteExecCredentialErrors(t *testing.T) {
	tests := []struct{ name, apiVersion, token, wantErr string }{
		{"empty apiVersion", "", secretTok, "unsupported ExecCredential apiVersion"},
		{"v1alpha1", "client.authentication.k8s.io/v1alpha1", secretTok, "unsupported"},
		{"empty token", ExecV1, "", "empty token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteExecCredential(&b, tt.apiVersion, tt.token, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v want %q", err, tt.wantErr)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q", b.String())
			}
			assertNoSecret(t, err.Error())
		})
	}
}

// TestExecRoundTrip: the apiVersion ParseExecInfo yields is accepted by
// WriteExecCredential, as the exec-credential command will chain them.
func TestExecRoundTrip(t *testing.T) {
	for _, env := range []string{"", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`} {
		info, err := ParseExecInfo(env)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteExecCredential(&b, info.APIVersion, "tok", time.Unix(1795420800, 0)); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["apiVersion"] != info.APIVersion {
			t.Fatalf("%v %v", m, err)
		}
		if !reflect.DeepEqual(m["status"], map[string]any{"expirationTimestamp": "2026-11-23T08:00:00Z", "token": "tok"}) {
			t.Fatalf("status %v", m["status"])
		}
	}
}

// parseExecInfoReflect is ParseExecInfo as it was, with json.Unmarshal into a
// struct: the reference of the hand-written reader.
func parseExecInfoReflect(env string) (ExecInfo, error) {
	if strings.TrimSpace(env) == "" {
		return ExecInfo{APIVersion: ExecV1}, nil
	}
	var obj struct {
		APIVersion *string `json:"apiVersion"`
		Kind       *string `json:"kind"`
		Spec       *struct {
			Interactive *bool `json:"interactive"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(env), &obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: field %q has the wrong type", clip(te.Field))
		}
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO is not a JSON object")
	}
	if obj.Kind == nil || *obj.Kind != ExecKind {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: kind must be %q", ExecKind)
	}
	if obj.APIVersion == nil {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: apiVersion is missing")
	}
	info := ExecInfo{APIVersion: *obj.APIVersion}
	if info.APIVersion != ExecV1 && info.APIVersion != ExecV1beta1 {
		return ExecInfo{}, reqErrf("KUBERNETES_EXEC_INFO: unsupported apiVersion %q (supported: %s, %s)",
			clip(info.APIVersion), ExecV1, ExecV1beta1)
	}
	if obj.Spec != nil && obj.Spec.Interactive != nil {
		info.Interactive = *obj.Spec.Interactive
	}
	return info, nil
}

// sameExecInfo fails t unless ParseExecInfo and the reference agree on env:
// the same info, the same error text.
func sameExecInfo(t *testing.T, env string) {
	t.Helper()
	got, err := ParseExecInfo(env)
	want, wantErr := parseExecInfoReflect(env)
	if got != want || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("ParseExecInfo(%q) = %+v, %v\nreference           %+v, %v", env, got, err, want, wantErr)
	}
}

func TestParseExecInfoMatchesEncodingJSON(t *testing.T) {
	const head = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"`
	for _, env := range []string{
		"", " ", "\u00a0", "null", " null ", "nul", "null x", "{}", "[]", `"x"`, "1", "true", "{", "{} {}", "{}]",
		head + `}`, head + `,"spec":{"interactive":true}}`, head + `,"spec":{"interactive":false}}`,
		head + `,"spec":{"interactive":true},"spec":{}}`, // a second spec merges
		head + `,"spec":{"interactive":true},"spec":null,"spec":{}}`,
		head + `,"spec":{"interactive":true,"interactive":null}}`,
		head + `,"spec":{"interactive":"yes"}}`, head + `,"spec":{"interactive":1}}`, head + `,"spec":{"interactive":{}}}`,
		head + `,"spec":{"interactive":[true]}}`, head + `,"spec":[]}`, head + `,"spec":"x"}`, head + `,"spec":1}`, head + `,"spec":true}`,
		head + `,"spec":{"interactive":"yes"},"kind":1}`, // the first wrong type is named
		head + `,"spec":{"interactive":"yes"}`,           // ... unless the JSON is malformed
		head + `,"spec":{"interactive":"yes"}} x`,
		head + `,"spec":{"interactive":tru}}`,
		head + `,"kind":null}`, head + `,"apiVersion":null}`, head + `,"kind":"Pod","kind":"ExecCredential"}`,
		head + `,"kind":{}}`, head + `,"kind":[]}`, head + `,"apiVersion":true}`, head + `,"apiVersion":1.5}`,
		`{"KIND":"ExecCredential","APIVERSION":"client.authentication.k8s.io/v1beta1","Spec":{"INTERACTIVE":true}}`,
		`{"\u212aind":"ExecCredential","apiVer\u017fion":"client.authentication.k8s.io/v1","\u017fpec":{"interactive":true}}`,
		"{\"k\u0130nd\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\"}",
		`{"ki\u006ed":"Exec\u0043redential","apiVersion":"client.authentication.k8s.io\/v1"}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1` + "\xff" + `"}`,
		`{"kind":"ExecCredential","apiVersion":"\ud800"}`,
		head + `,"spec":{"cluster":{"server":"https://k8s:6443","config":{"a":[1,-2.5e3,null,false,{}]}},"interactive":true},"status":null}`,
	} {
		sameExecInfo(t, env)
	}
	// encoding/json's nesting limit: 10000 objects and arrays, the top-level object included.
	for _, c := range []struct {
		env string
		ok  bool
	}{
		{head + `,"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`, true},
		{head + `,"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, false},
		{head + `,"spec":{"x":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}}`, true},
		{head + `,"spec":{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}}`, false},
		{head + `,"x":` + strings.Repeat(`{"a":`, 9999) + "1" + strings.Repeat("}", 9999) + `}`, true},
		{head + `,"x":` + strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000) + `}`, false},
	} {
		if _, err := ParseExecInfo(c.env); (err == nil) != c.ok {
			t.Errorf("nesting %d: %v", strings.Count(c.env, "[")+strings.Count(c.env, "{"), err)
		}
		sameExecInfo(t, c.env)
	}
}
