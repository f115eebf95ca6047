package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkRequestError fails t unless err is a *RequestError on one line:
// its message holds none of the characters in breaks.
func checkRequestError(t *testing.T, err error, breaks string) {
	t.Helper()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v is not a *RequestError", err, err)
	}
	if strings.ContainsAny(err.Error(), breaks) {
		t.Fatalf("error %q is not one line", err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		"", " ", "{}", "null", "[]", `"x"`, "{} {}", `{"profile":"prod"}`,
		`{"profile":"prod","min_valid_seconds":300,"force_refresh":false,"password":"p","mfa_code":"1","assertion":"a"}`,
		`{"min_valid_seconds":-1}`, `{"min_valid_seconds":1e3}`, `{"password":1}`, `{"x":1}`, `{"password":"a","password":"b"}`,
		`{"profile":"\u00e9\ud800"}`, `{"profile":null}`, `{"force_refresh":true}`, "{\"profile\":\"a\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(bytes.NewReader(data))
		if err != nil {
			checkRequestError(t, err, "\n\r")
			if !reflect.DeepEqual(req, Request{}) {
				t.Fatalf("non-zero request on error: %+v", req)
			}
			return
		}
		if req.MinValidSeconds != nil && *req.MinValidSeconds < 0 {
			t.Fatalf("negative min_valid_seconds accepted")
		}
		// Round trip: the canonical encoding decodes to the same request.
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeRequest(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("round trip: %+v != %+v", req, again)
		}
	})
}

// encodeGitRequest writes every field of g as git would send it.
func encodeGitRequest(g GitRequest) string {
	var b strings.Builder
	for _, c := range g.Capabilities {
		b.WriteString("capability[]=" + c + "\n")
	}
	for _, kv := range [][2]string{
		{"protocol", g.Protocol}, {"host", g.Host}, {"path", g.Path}, {"username", g.Username},
		{"password", g.Password}, {"password_expiry_utc", g.PasswordExpiryUTC},
		{"authtype", g.AuthType}, {"credential", g.Credential},
	} {
		if kv[1] != "" {
			b.WriteString(kv[0] + "=" + kv[1] + "\n")
		}
	}
	for _, w := range g.WWWAuth {
		b.WriteString("wwwauth[]=" + w + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func FuzzReadGit(f *testing.F) {
	for _, s := range []string{
		"", "\n", "protocol=https\nhost=h\n\n", "capability[]=authtype\ncapability[]=\n", "x", "=\n", "a=b\r\n",
		"url=https://u:p@h:1/p/\n", "url=https://a%0Ab@h\n", "host=h\x00\n", "wwwauth[]=Bearer realm=\"x\"\n\nmore",
		"password=\xff\n", "path=a\rb\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadGit(bytes.NewReader(data))
		if err != nil {
			checkRequestError(t, err, "\n\r\x00")
			return
		}
		for _, v := range append([]string{g.Protocol, g.Host, g.Path, g.Username, g.Password, g.PasswordExpiryUTC, g.AuthType, g.Credential},
			append(g.Capabilities, g.WWWAuth...)...) {
			if strings.ContainsAny(v, "\n\x00") {
				t.Fatalf("value %q cannot be on a line", v)
			}
		}
		for _, v := range append([]string{g.Protocol, g.Host, g.Path, g.Username, g.Password, g.PasswordExpiryUTC, g.AuthType, g.Credential},
			append(g.Capabilities, g.WWWAuth...)...) {
			// "k=v\r\r" reads as v+"\r" (one CR is stripped, as git does);
			// such a value does not survive a second trip.
			if strings.HasSuffix(v, "\r") {
				return
			}
		}
		for _, v := range append(g.Capabilities, g.WWWAuth...) {
			if v == "" {
				t.Fatal("empty multi value kept")
			}
		}
		// Round trip through the canonical encoding.
		again, err := ReadGit(strings.NewReader(encodeGitRequest(g)))
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if !reflect.DeepEqual(g, again) {
			t.Fatalf("round trip:\n%+v\n%+v", g, again)
		}
		// WriteGit of what was read is read back the same.
		a := GitAnswer{Username: g.Username, Password: g.Password, AuthType: g.AuthType, Credential: g.Credential}
		if strings.ContainsRune(a.Username+a.Password+a.AuthType+a.Credential, '\r') {
			return // WriteGit refuses CR anywhere
		}
		var b bytes.Buffer
		if err := WriteGit(&b, a); err != nil {
			if a.Credential != "" && a.AuthType == "" {
				return
			}
			t.Fatalf("WriteGit: %v", err)
		}
		back, err := ReadGit(&b)
		if err != nil {
			t.Fatal(err)
		}
		if back.Username != a.Username || back.Password != a.Password || back.AuthType != a.AuthType || back.Credential != a.Credential {
			t.Fatalf("WriteGit/ReadGit: %+v -> %+v", a, back)
		}
	})
}

func FuzzWriteGitRoundTrip(f *testing.F) {
	f.Add("u", "p", "", "", int64(0))
	f.Add(`corp\svc`, "tok", "Bearer", "tok", int64(1795420800))
	f.Add("a=b", "x\ny", "Bearer", "", int64(-1))
	f.Fuzz(func(t *testing.T, user, pass, authType, cred string, exp int64) {
		a := GitAnswer{Username: user, Password: pass, AuthType: authType, Credential: cred}
		if exp != 0 {
			a.PasswordExpiry = time.Unix(exp, 0)
		}
		var b bytes.Buffer
		if err := WriteGit(&b, a); err != nil {
			if b.Len() != 0 {
				t.Fatal("wrote output on error")
			}
			// The message is one of a fixed set: it never depends on a value.
			known := map[string]bool{"git answer: credential needs an authtype": true}
			for _, k := range []string{"authtype", "credential", "username", "password"} {
				known["git answer: "+k+" contains a newline, carriage return or NUL"] = true
			}
			if !known[err.Error()] {
				t.Fatalf("unexpected error message %q", err)
			}
			return
		}
		g, err := ReadGit(&b)
		if err != nil {
			t.Fatalf("ReadGit of WriteGit output: %v", err)
		}
		var wantExp string
		if exp != 0 {
			wantExp = strconv.FormatInt(exp, 10)
		}
		var wantCaps []string
		if authType != "" || cred != "" {
			wantCaps = []string{"authtype"}
		}
		want := GitRequest{Username: user, Password: pass, AuthType: authType, Credential: cred, PasswordExpiryUTC: wantExp, Capabilities: wantCaps}
		if !reflect.DeepEqual(g, want) {
			t.Fatalf("got %+v\nwant %+v", g, want)
		}
	})
}

func FuzzParseExecInfo(f *testing.F) {
	for _, s := range []string{
		"", " ", "null", "{}", "[]", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1"}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"s","config":{"a":1}},"interactive":false}}`,
		`{"KIND":"ExecCredential","apiversion":"client.authentication.k8s.io/v1"}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"x"},"kind":1}`,
		`{"\u212aind":"ExecCredential","apiVer\u017fion":"client.authentication.k8s.io/v1","spec":null,"spec":{"interactive":true}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, env string) {
		info, err := ParseExecInfo(env)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v is not a *RequestError", err, err)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error too long (%d bytes)", len(err.Error()))
			}
			if info != (ExecInfo{}) {
				t.Fatalf("non-zero info on error: %+v", info)
			}
			return
		}
		if info.APIVersion != ExecV1 && info.APIVersion != ExecV1beta1 {
			t.Fatalf("unsupported apiVersion %q accepted", info.APIVersion)
		}
		var b bytes.Buffer
		if err := WriteExecCredential(&b, info.APIVersion, "tok", time.Unix(1795420800, 0)); err != nil {
			t.Fatalf("WriteExecCredential(%q): %v", info.APIVersion, err)
		}
		// Round trip: the canonical form parses to the same info.
		canon, _ := json.Marshal(map[string]any{"kind": ExecKind, "apiVersion": info.APIVersion, "spec": map[string]any{"interactive": info.Interactive}})
		again, err := ParseExecInfo(string(canon))
		if err != nil || again != info {
			t.Fatalf("round trip %s: %+v, %v", canon, again, err)
		}
	})
}
