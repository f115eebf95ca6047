package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
			out := checkWrites(t, func(w io.Writer) error { return WriteExecCredential(w, tt.apiVersion, tt.token, tt.exp) }, tt.want)
			// What client-go decodes: the v1 / v1beta1 field names.
			var back struct {
				Kind       string `json:"kind"`
				APIVersion string `json:"apiVersion"`
				Status     *struct {
					ExpirationTimestamp *time.Time `json:"expirationTimestamp"`
					Token               string     `json:"token"`
				} `json:"status"`
			}
			if err := json.Unmarshal([]byte(out), &back); err != nil {
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
			checkRefuses(t, func(w io.Writer) error { return WriteExecCredential(w, tt.apiVersion, tt.token, time.Now()) }, tt.wantErr)
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
