package main

// Security properties (issue 6): TLS trust, refused literal passwords, the
// cache directory's permissions, secrets never in output, argv or messages,
// malformed input. Every case runs the real binary.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// spkiPin is the pin_sha256 of a PEM certificate's public key.
func spkiPin(t *testing.T, certPEM []byte) string {
	t.Helper()
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// tlsEnv is a home with one vb365 user and a profile whose TLS settings are tlsKeys.
func tlsEnv(t *testing.T, tlsKeys string) (*testenv.Env, *emulator.Emulator) {
	t.Helper()
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vb365"})
	em.AddUser(m365User, m365Password)
	e.Vars["VB365_PASSWORD"] = m365Password
	e.WriteConfig(fmt.Sprintf(`[profiles.m365]
product = "vb365"
url = %q
username = '%s'
password_env = "VB365_PASSWORD"
%s
`, em.URL(), m365User, tlsKeys))
	return e, em
}

func TestTLSUnknownCARefused(t *testing.T) {
	// No ca_file: the system roots do not know the emulator's certificate.
	e, em := tlsEnv(t, "")
	r := e.Run("", "get")
	if r.Exit != 4 || !strings.Contains(r.Stderr, "ca_file") || !strings.Contains(r.Stderr, "pin_sha256") {
		t.Errorf("no ca_file: exit %d %q", r.Exit, r.Stderr)
	}
	assertOneLineNoLeak(t, r, m365Password)
	// A ca_file holding another CA (every httptest server shares one
	// certificate, so make a fresh one).
	otherCA := filepath.Join(e.Dir, "other-ca.pem")
	os.WriteFile(otherCA, selfSignedCA(t), 0o600)
	e2, em2 := tlsEnv(t, fmt.Sprintf("ca_file = %q", otherCA))
	r = e2.Run("", "get")
	if r.Exit != 4 || !strings.Contains(r.Stderr, "ca_file") {
		t.Errorf("wrong ca_file: exit %d %q", r.Exit, r.Stderr)
	}
	if n := em.Counts().TokenCalls + em2.Counts().TokenCalls; n != 0 {
		t.Errorf("the password reached an untrusted server: %d token calls", n)
	}
}

// selfSignedCA is the PEM of a fresh CA certificate for 127.0.0.1.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               pkix.Name{CommonName: "other test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestTLSPin(t *testing.T) {
	e, em := tlsEnv(t, "")
	pin := spkiPin(t, em.CACertPEM())
	wrong := sha256.Sum256([]byte("another key"))
	wrongPin := base64.StdEncoding.EncodeToString(wrong[:])
	cases := []struct {
		name, keys string
		exit       int
	}{
		{"right pin alone", fmt.Sprintf("pin_sha256 = %q", pin), 0},
		{"right pin, sha256/ prefix", fmt.Sprintf("pin_sha256 = %q", "sha256/"+pin), 0},
		{"right pin with ca_file", fmt.Sprintf("pin_sha256 = %q\nca_file = %q", pin, e.CAFile("vb365")), 0},
		{"wrong pin alone", fmt.Sprintf("pin_sha256 = %q", wrongPin), 4},
		// The pin is enforced even when the chain verifies.
		{"wrong pin with ca_file", fmt.Sprintf("pin_sha256 = %q\nca_file = %q", wrongPin, e.CAFile("vb365")), 4},
		{"malformed pin", `pin_sha256 = "not-base64!"`, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := em.Counts().TokenCalls
			e.WriteConfig(fmt.Sprintf(`[profiles.m365]
product = "vb365"
url = %q
username = '%s'
password_env = "VB365_PASSWORD"
%s
`, em.URL(), m365User, tc.keys))
			r := e.Run("", "get", "--force-refresh")
			if r.Exit != tc.exit {
				t.Fatalf("exit %d, want %d; %q", r.Exit, tc.exit, r.Stderr)
			}
			if tc.exit != 0 {
				if !strings.Contains(r.Stderr, "pin_sha256") {
					t.Errorf("message does not name pin_sha256: %q", r.Stderr)
				}
				if em.Counts().TokenCalls != before {
					t.Error("a request reached a server whose key does not match the pin")
				}
				assertOneLineNoLeak(t, r, m365Password)
			} else if r.Stderr != "" {
				t.Errorf("a pinned connection warned: %q", r.Stderr)
			}
		})
	}
}

func TestTLSInsecureSkipVerifyWarnsEveryCall(t *testing.T) {
	e, em := tlsEnv(t, "insecure_skip_verify = true")
	for i, args := range [][]string{{"get"}, {"get"}, {"get", "--force-refresh"}, {"get", "--format", "token"}} {
		r := e.Run("", args...)
		mustOK(t, r)
		if !strings.Contains(r.Stderr, "insecure_skip_verify") || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("call %d %v: stderr %q, want one warning line", i, args, r.Stderr)
		}
		if strings.Contains(r.Stdout, "insecure") || strings.Contains(r.Stdout, "warning") {
			t.Errorf("the warning went to stdout: %q", r.Stdout)
		}
	}
	if n := em.Counts(); n.Grants["password"] != 1 || n.Grants["refresh_token"] != 1 {
		t.Errorf("counts %+v", n)
	}
}

// tlsVersionServer serves the emulator's handler with only TLS versions min..max.
func tlsVersionServer(t *testing.T, em *emulator.Emulator, min, max uint16) (*httptest.Server, string) {
	srv := httptest.NewUnstartedServer(em)
	srv.TLS = &tls.Config{MinVersion: min, MaxVersion: max}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	return srv, ca
}

func TestTLS12Minimum(t *testing.T) {
	e := testenv.New(t)
	em, err := emulator.New(emulator.Options{Product: "vb365"})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	em.AddUser(m365User, m365Password)
	e.Vars["VB365_PASSWORD"] = m365Password
	for _, tc := range []struct {
		name     string
		min, max uint16
		exit     int
	}{
		{"TLS 1.0 only", tls.VersionTLS10, tls.VersionTLS10, 4},
		{"TLS 1.1 only", tls.VersionTLS11, tls.VersionTLS11, 4},
		{"TLS 1.2 only", tls.VersionTLS12, tls.VersionTLS12, 0},
		{"TLS 1.3 only", tls.VersionTLS13, tls.VersionTLS13, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ca := tlsVersionServer(t, em, tc.min, tc.max)
			// Control: the server really speaks this version to a client that allows it.
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10}}}
			resp, err := c.Get(srv.URL + em.ProtectedPath())
			if err != nil {
				t.Fatalf("control client cannot talk to the %s server: %v", tc.name, err)
			}
			if resp.TLS.Version != tc.max {
				t.Fatalf("control negotiated %x", resp.TLS.Version)
			}
			resp.Body.Close()
			before := em.Counts().TokenCalls
			e.WriteConfig(fmt.Sprintf(`[profiles.m365]
product = "vb365"
url = %q
username = '%s'
password_env = "VB365_PASSWORD"
ca_file = %q
`, srv.URL, m365User, ca))
			r := e.Run("", "get", "--force-refresh")
			if r.Exit != tc.exit {
				t.Fatalf("exit %d, want %d: %q", r.Exit, tc.exit, r.Stderr)
			}
			if tc.exit != 0 {
				if em.Counts().TokenCalls != before {
					t.Error("the password was sent over an old TLS version")
				}
				assertOneLineNoLeak(t, r, m365Password)
				t.Logf("%s refused: %s", tc.name, strings.TrimSpace(r.Stderr))
			}
		})
	}
}

func TestLiteralPasswordInConfigRefused(t *testing.T) {
	e := testenv.New(t)
	e.WriteConfig(`[profiles.m365]
product = "vb365"
url = "https://vb365.example.com:4443"
username = "svc"
password = "literal-Secret-PW-445"
`)
	for _, args := range [][]string{{"get"}, {"status"}, {"logout"}} {
		r := e.Run("", args...)
		if r.Exit != 2 {
			t.Errorf("%v: exit %d %q", args, r.Exit, r.Stderr)
		}
		for _, want := range []string{"password_env", "password_file", "password_command", "login"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%v: message does not name %s: %q", args, want, r.Stderr)
			}
		}
		assertOneLineNoLeak(t, r, "literal-Secret-PW-445")
	}
}

// modeOf is the permission bits of path.
func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestCacheDirPermissions(t *testing.T) {
	e, _ := vb365Env(t, nil)
	mustOK(t, e.Run("", "get"))
	e.Vars["VB365_PASSWORD"] = m365Password
	for _, d := range []string{e.CacheDir, filepath.Join(e.CacheDir, "tokens"), filepath.Join(e.CacheDir, "locks")} {
		if m := modeOf(t, d); m != 0o700 {
			t.Errorf("%s mode %#o, want 0700", d, m)
		}
	}
	files := 0
	filepath.Walk(e.CacheDir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files++
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %#o, want 0600", p, fi.Mode().Perm())
			}
		}
		return nil
	})
	if files < 2 { // one item, one lock file
		t.Errorf("%d files in the cache dir", files)
	}

	for _, tc := range []struct {
		dir  string
		mode os.FileMode
		args []string
	}{
		{e.CacheDir, 0o770, []string{"get"}},
		{e.CacheDir, 0o702, []string{"get"}},
		{e.CacheDir, 0o777, []string{"status"}},
		{filepath.Join(e.CacheDir, "tokens"), 0o730, []string{"get"}},
		{filepath.Join(e.CacheDir, "locks"), 0o707, []string{"get", "--force-refresh"}},
	} {
		name := fmt.Sprintf("%s %#o %v", filepath.Base(tc.dir), tc.mode, tc.args)
		t.Run(name, func(t *testing.T) {
			if err := os.Chmod(tc.dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(tc.dir, 0o700)
			r := e.Run("", tc.args...)
			if r.Exit != 6 || !strings.Contains(r.Stderr, "writable by group or others") {
				t.Errorf("exit %d %q", r.Exit, r.Stderr)
			}
			if strings.Contains(r.Stdout, "vb365-at-") {
				t.Error("a token was answered from an unsafe cache dir")
			}
		})
	}
	mustOK(t, e.Run("", "get"))

	t.Run("owned by another user", func(t *testing.T) {
		const nobody = 65534
		if err := os.Chown(e.CacheDir, nobody, nobody); err != nil {
			if os.Geteuid() != 0 {
				t.Skipf("not root and cannot chown: %v", err)
			}
			t.Fatal(err)
		}
		defer os.Chown(e.CacheDir, os.Geteuid(), os.Getegid())
		r := e.Run("", "get")
		if r.Exit != 6 || !strings.Contains(r.Stderr, "owned by") {
			t.Errorf("exit %d %q", r.Exit, r.Stderr)
		}
	})
	mustOK(t, e.Run("", "get"))

	// A fresh cache dir is created 0700 even under a permissive umask.
	t.Run("created 0700 under umask 0", func(t *testing.T) {
		e2, _ := vb365Env(t, nil)
		old := setUmask(0)
		r := e2.Run("", "get")
		setUmask(old)
		mustOK(t, r)
		for _, d := range []string{e2.CacheDir, filepath.Join(e2.CacheDir, "tokens"), filepath.Join(e2.CacheDir, "locks")} {
			if m := modeOf(t, d); m != 0o700 {
				t.Errorf("%s mode %#o", d, m)
			}
		}
		filepath.Walk(e2.CacheDir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %#o", p, fi.Mode().Perm())
			}
			return nil
		})
	})
}

func TestMalformedInputExit2(t *testing.T) {
	e, em := vb365Env(t, nil)
	requests := map[string]string{
		"truncated":        `{"profile":`,
		"not an object":    `["m365"]`,
		"string":           `"m365"`,
		"number":           `42`,
		"unknown field":    `{"pasword":"x"}`,
		"wrong type":       `{"min_valid_seconds":"300"}`,
		"negative":         `{"min_valid_seconds":-1}`,
		"fraction":         `{"min_valid_seconds":1.5}`,
		"bool as string":   `{"force_refresh":"yes"}`,
		"duplicate":        `{"profile":"m365","profile":"m365"}`,
		"trailing":         `{} {}`,
		"trailing garbage": `{"profile":"m365"}x`,
		"NUL":              "{\x00}",
		"huge":             `{"profile":"` + strings.Repeat("a", 2<<20) + `"}`,
		"password number":  `{"password":12345}`,
		"yaml":             "profile: m365\n",
	}
	for name, in := range requests {
		t.Run("json/"+name, func(t *testing.T) {
			r := e.Run(in, "get")
			if r.Exit != 2 || !strings.Contains(r.Stderr, "request") {
				t.Errorf("exit %d %q", r.Exit, r.Stderr)
			}
			assertOneLineNoLeak(t, r, "12345", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
			if a := decode(t, r); a.Error == nil || a.Error.ExitCode != 2 {
				t.Errorf("JSON error %+v", a.Error)
			}
		})
	}
	host := strings.TrimPrefix(em.URL(), "https://")
	gitInputs := map[string]string{
		"not key=value":  "protocol=https\nhost " + host + "\n\n",
		"NUL":            "protocol=https\nhost=" + host + "\x00\n\n",
		"bad url":        "url=://nope\n\n",
		"encoded LF url": "url=https://" + host + "/a%0ahost=evil\n\n",
		"huge":           "protocol=https\nhost=" + strings.Repeat("h", 2<<20) + "\n\n",
	}
	for name, in := range gitInputs {
		t.Run("git/"+name, func(t *testing.T) {
			r := e.Run(in, "git", "get")
			if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "git credential") {
				t.Errorf("exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
			}
			assertOneLineNoLeak(t, r, "evil", "hhhhhhhhhhhhhhhhhhhhhhhh")
		})
	}
	execInfos := map[string]string{
		"not JSON":           "{apiVersion: v1",
		"unknown apiVersion": `{"apiVersion":"client.authentication.k8s.io/v9","kind":"ExecCredential","spec":{}}`,
		"wrong kind":         `{"apiVersion":"client.authentication.k8s.io/v1","kind":"Pod","spec":{}}`,
		"array":              `[1,2]`,
		"interactive string": `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":"yes"}}`,
		"trailing data":      `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{}} x`,
		"huge apiVersion":    `{"apiVersion":"` + strings.Repeat("v", 100<<10) + `","kind":"ExecCredential"}`,
		"NUL in apiVersion":  `{"apiVersion":"client.authentication.k8s.io/v1\u0000","kind":"ExecCredential"}`,
	}
	for name, info := range execInfos {
		t.Run("exec-info/"+name, func(t *testing.T) {
			e.Vars["KUBERNETES_EXEC_INFO"] = info
			defer delete(e.Vars, "KUBERNETES_EXEC_INFO")
			r := e.Run("", "exec-credential")
			if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "KUBERNETES_EXEC_INFO") {
				t.Errorf("exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
			}
			assertOneLineNoLeak(t, r) // one short line: a huge value is clipped
		})
	}
	if n := em.Counts(); n.TokenCalls != 0 {
		t.Errorf("malformed input reached the server: %d calls", n.TokenCalls)
	}
}

// Secrets the leak test uses; none may ever appear in stderr, and on stdout
// only the access token of an answer may.
const (
	leakWrongPassword  = "wrong-PW-Secret-1"
	leakAssertion      = "jwt-ASSERTION-Secret-2"
	leakWrongAssertion = "wrong-ASSERTION-Secret-3"
	leakAzurePassword  = "pw-AZURE-Secret-4"
	leakMFACode        = "424242"
	leakWrongMFACode   = "999111"
	leakCommandSecret  = "cmd-PW-Secret-5"
	leakWrongPassphr   = "wrong-PASSPHRASE-Secret-6"
)

// leakEnv is a home with every kind of secret: a password, an assertion, an
// MFA user and a password command that prints its secret on both streams
// before failing.
func leakEnv(t *testing.T) (*testenv.Env, *emulator.Emulator, *emulator.Emulator) {
	e := testenv.New(t)
	m := e.Emulator(emulator.Options{Product: "vb365"})
	m.AddUser(m365User, m365Password)
	m.AddUser(`corp\cmduser`, leakCommandSecret)
	m.AddJWTClient("app-1", leakAssertion)
	az := e.Emulator(emulator.Options{Product: "vbazure"})
	az.AddMFAUser("mfa-admin", leakAzurePassword, leakMFACode)
	e.Vars["VB365_PASSWORD"] = m365Password
	e.Vars["JWT_ASSERTION"] = leakAssertion
	e.Vars["AZ_PASSWORD"] = leakAzurePassword
	e.Vars["LEAKY"] = leakCommandSecret
	e.WriteConfig(fmt.Sprintf(`default_profile = "m365"

[profiles.m365]
product = "vb365"
url = %[1]q
username = '%[3]s'
password_env = "VB365_PASSWORD"
ca_file = %[2]q
git_hosts = [%[5]q]

[profiles.app]
product = "vb365"
url = %[1]q
grant = "jwt-bearer"
client_id = "app-1"
assertion_env = "JWT_ASSERTION"
ca_file = %[2]q

[profiles.cmd]
product = "vb365"
url = %[1]q
username = 'corp\cmduser'
password_command = ["sh", "-c", "echo \"$LEAKY\" >&2; echo \"$LEAKY\"; exit 3"]
ca_file = %[2]q

[profiles.mfa]
product = "vbazure"
url = %[4]q
username = "mfa-admin"
password_env = "AZ_PASSWORD"
ca_file = %[6]q
`, m.URL(), e.CAFile("vb365"), m365User, az.URL(), strings.TrimPrefix(m.URL(), "https://"), e.CAFile("vbazure")))
	return e, m, az
}

var accessTokenRe = regexp.MustCompile(`(vb365|vbazure)-at-[A-Za-z0-9_-]+`)

func TestSecretsNeverInOutput(t *testing.T) {
	e, m, az := leakEnv(t)
	secrets := []string{m365Password, leakWrongPassword, leakAssertion, leakWrongAssertion, leakAzurePassword,
		leakMFACode, leakWrongMFACode, leakCommandSecret, leakWrongPassphr, testenv.Passphrase, emulator.StackTraceMarker}
	prefixes := append(m.TokenPrefixes(), az.TokenPrefixes()...)
	host := strings.TrimPrefix(m.URL(), "https://")
	execInfo := `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`

	type scenario struct {
		name   string
		setup  func() // arms faults, logs out, changes the environment
		undo   func()
		stdin  string
		args   []string
		exit   int
		answer bool // stdout carries one access token (the answer)
	}
	logout := func(p string) func() { return func() { e.Run("", "-p", p, "logout") } }
	setEnv := func(k, v string) (func(), func()) {
		old, had := e.Vars[k]
		return func() { e.Vars[k] = v }, func() {
			if had {
				e.Vars[k] = old
			} else {
				delete(e.Vars, k)
			}
		}
	}
	wrongPassEnv, rightPass := setEnv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", leakWrongPassphr)
	// A wrong passphrase shows on an existing item.
	wrongPass := func() { e.Run("", "get"); wrongPassEnv() }
	scenarios := []scenario{
		{name: "grant", setup: logout("m365"), args: []string{"get"}, answer: true},
		{name: "cache", args: []string{"get"}, answer: true},
		{name: "refresh", args: []string{"get", "--force-refresh"}, answer: true},
		{name: "retried 503", setup: func() { m.FailNext(1, 503, 0) }, args: []string{"get", "--force-refresh"}, answer: true},
		{name: "revoked refresh falls back", setup: m.RevokeRefreshTokens, args: []string{"get", "--force-refresh"}, answer: true},
		{name: "wrong password", setup: logout("m365"), stdin: `{"password":"` + leakWrongPassword + `"}`, args: []string{"get"}, exit: 3},
		{name: "wrong password, token format", setup: logout("m365"), stdin: `{"password":"` + leakWrongPassword + `"}`, args: []string{"get", "--format", "token"}, exit: 3},
		{name: "jwt grant", setup: logout("app"), args: []string{"-p", "app", "get"}, answer: true},
		{name: "wrong assertion", setup: logout("app"), stdin: `{"assertion":"` + leakWrongAssertion + `"}`, args: []string{"-p", "app", "get"}, exit: 3},
		{name: "no MFA code", setup: logout("mfa"), args: []string{"-p", "mfa", "get"}, exit: 5},
		{name: "wrong MFA code", setup: logout("mfa"), stdin: `{"mfa_code":"` + leakWrongMFACode + `"}`, args: []string{"-p", "mfa", "get"}, exit: 3},
		{name: "MFA grant", setup: logout("mfa"), stdin: `{"mfa_code":"` + leakMFACode + `"}`, args: []string{"-p", "mfa", "get"}, answer: true},
		{name: "MFA refresh", stdin: `{"mfa_code":"` + leakMFACode + `"}`, args: []string{"-p", "mfa", "get", "--force-refresh"}, answer: true},
		{name: "truncated token answer", setup: func() { logout("m365")(); m.GarbageNext(1, emulator.GarbageTruncated) }, args: []string{"get"}, exit: 4},
		{name: "proxy HTML", setup: func() { logout("m365")(); m.GarbageNext(1, emulator.GarbageHTML) }, args: []string{"get"}, exit: 4},
		{name: "500 with stack trace", setup: func() { logout("m365")(); m.FailNext(1, 500, 0) }, args: []string{"get"}, exit: 4},
		{name: "vbazure 500 with stack trace", setup: func() { logout("mfa")(); az.FailNext(1, 500, 0) }, stdin: `{"mfa_code":"` + leakMFACode + `"}`, args: []string{"-p", "mfa", "get"}, exit: 4},
		{name: "refresh answered 500", setup: func() { e.Run("", "get"); m.FailNext(1, 500, 0) }, args: []string{"get", "--min-valid", "3h"}, answer: true}, // warns, answers the cached token
		{name: "password command fails", args: []string{"-p", "cmd", "get"}, exit: 5},
		{name: "wrong passphrase", setup: wrongPass, undo: rightPass, args: []string{"get"}, exit: 6},
		{name: "login wrong password", stdin: leakWrongPassword + "\n", args: []string{"login", "--password-stdin"}, exit: 3},
		{name: "login", stdin: m365Password + "\n", args: []string{"login", "--password-stdin"}},
		{name: "header format", args: []string{"get", "--format", "header"}, answer: true},
		{name: "env format", args: []string{"get", "--format", "env"}, answer: true},
		{name: "curl format", args: []string{"get", "--format", "curl"}, answer: true},
		{name: "git get", stdin: "protocol=https\nhost=" + host + "\n\n", args: []string{"git", "get"}, answer: true},
		{name: "git erase", stdin: "protocol=https\nhost=" + host + "\n\n", args: []string{"git", "erase"}},
		{name: "exec-credential", setup: func() { e.Vars["KUBERNETES_EXEC_INFO"] = execInfo }, undo: func() { delete(e.Vars, "KUBERNETES_EXEC_INFO") }, args: []string{"exec-credential"}, answer: true},
		{name: "auth-code", args: []string{"auth-code"}},
		{name: "status", args: []string{"status"}},
		{name: "status json", args: []string{"status", "--json"}},
		{name: "logout", args: []string{"logout", "--all"}},
	}
	debugLines := 0
	for _, debug := range []bool{false, true} {
		for _, sc := range scenarios {
			name := sc.name
			if debug {
				name += " --debug"
			}
			t.Run(name, func(t *testing.T) {
				if sc.setup != nil {
					sc.setup()
				}
				if sc.undo != nil {
					defer sc.undo()
				}
				args := sc.args
				if debug {
					args = append([]string{"--debug"}, args...)
				}
				r := e.Run(sc.stdin, args...)
				if r.Exit != sc.exit {
					t.Fatalf("exit %d, want %d\nstdout=%q\nstderr=%q", r.Exit, sc.exit, r.Stdout, r.Stderr)
				}
				debugLines += strings.Count(r.Stderr, "debug:")
				for _, s := range append(secrets, prefixes...) {
					if strings.Contains(r.Stderr, s) {
						t.Errorf("stderr holds %q:\n%s", s, r.Stderr)
					}
				}
				out := r.Stdout
				if sc.answer {
					toks := map[string]bool{}
					for _, tok := range accessTokenRe.FindAllString(out, -1) {
						toks[tok] = true
					}
					if len(toks) != 1 {
						t.Errorf("stdout holds %d distinct access tokens, want the answer's one: %q", len(toks), out)
					}
					out = accessTokenRe.ReplaceAllString(out, "")
				}
				if sc.name == "auth-code" {
					out = regexp.MustCompile(`vb365-ac-[A-Za-z0-9_-]+`).ReplaceAllString(out, "")
				}
				for _, s := range append(secrets, prefixes...) {
					if strings.Contains(out, s) {
						t.Errorf("stdout (outside the answer) holds %q:\n%s", s, r.Stdout)
					}
				}
				if strings.Contains(r.Stderr, "goroutine ") || strings.Contains(r.Stderr, "panic") {
					t.Errorf("a panic or stack reached stderr:\n%s", r.Stderr)
				}
			})
		}
	}
	if debugLines == 0 {
		t.Error("--debug wrote no debug line at all: the --debug half of this test proves nothing")
	}
	t.Logf("%d scenarios × {plain, --debug}; %d debug lines grepped", len(scenarios), debugLines)
}

// A token endpoint that redirects never gets the password re-posted to the
// redirect target.
func TestRedirectNotFollowed(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer target.Close()
	redir := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/v8/token", http.StatusTemporaryRedirect)
	}))
	defer redir.Close()
	e := testenv.New(t)
	ca := filepath.Join(e.Dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: redir.Certificate().Raw}), 0o600)
	e.Vars["VB365_PASSWORD"] = m365Password
	e.WriteConfig(fmt.Sprintf(`[profiles.m365]
product = "vb365"
url = %q
username = "svc"
password_env = "VB365_PASSWORD"
ca_file = %q
`, redir.URL, ca))
	r := e.Run("", "get")
	if r.Exit == 0 || targetHits.Load() != 0 {
		t.Errorf("exit %d, redirect target hit %d times", r.Exit, targetHits.Load())
	}
	assertOneLineNoLeak(t, r, m365Password, target.URL)
}

// A secret given as an argument is refused (exit 2) without being echoed,
// by the front and the engine alike.
func TestSecretInArgvRefused(t *testing.T) {
	e, _ := vb365Env(t, nil)
	for _, args := range [][]string{
		{"login", "--password", "argv-Secret-91"},
		{"login", "--password=argv-Secret-91"},
		{"get", "argv-Secret-91"},
		{"get", "--password", "argv-Secret-91"},
		{"get", "--mfa-code=argv-Secret-91"},
		{"login", "argv-Secret-91"},
	} {
		r := e.Run("", args...)
		if r.Exit != 2 {
			t.Errorf("%v: exit %d", args, r.Exit)
		}
		if strings.Contains(r.Stdout+r.Stderr, "argv-Secret-91") {
			t.Errorf("%v: the argument was echoed: %q", args, r.Stderr)
		}
	}
}
