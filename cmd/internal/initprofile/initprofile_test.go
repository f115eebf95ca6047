package initprofile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const existing = `# my settings: keep this comment
default_profile = "old"

[cache]
backend = "file" # the file backend
dir = %q

# the old server
[profiles.old]
product = "vbr"
url = "https://old.example"
username = "x"
password_env = "OLD_PW"

# trailing comment
`

// server is a vb365 emulator with its self-signed certificate (no system
// root trusts it) and the pin of its key.
func server(t *testing.T) (*emulator.Emulator, string) {
	t.Helper()
	em, err := emulator.New(emulator.Options{Product: "vb365", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	em.AddUser("alice", "pw-init-Z9")
	block, _ := pem.Decode(em.CACertPEM())
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return em, base64.StdEncoding.EncodeToString(sum[:])
}

func home(t *testing.T) (dir, cfgPath string) {
	dir = t.TempDir()
	cfgPath = filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(existing, "%q", `"`+filepath.Join(dir, "cache")+`"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfgPath
}

// --trust-server-key pins the key of a self-signed server; the profile is
// merged in keeping the file's comments; a later get verifies with the pin.
func TestTrustServerKeyPinsAndGetVerifies(t *testing.T) {
	em, pin := server(t)
	_, cfgPath := home(t)
	before, _ := os.ReadFile(cfgPath)
	var out bytes.Buffer
	err := Run(context.Background(), Options{ConfigPath: cfgPath, Product: "vb365", URL: em.URL(), Username: "alice",
		Name: "m365", PasswordEnv: "INIT_PW", TrustServerKey: true}, nil, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	after, _ := os.ReadFile(cfgPath)
	if !bytes.HasPrefix(after, before) || !strings.Contains(string(after), "pin_sha256 = '"+pin+"'") ||
		strings.Contains(string(after), "insecure") || strings.Contains(string(after), "pw-init") {
		t.Fatalf("file:\n%s", after)
	}
	if fi, _ := os.Stat(cfgPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if !strings.Contains(out.String(), pin) || !strings.Contains(out.String(), "export INIT_PW=") || !strings.Contains(out.String(), "get -p m365") {
		t.Errorf("output:\n%s", out.String())
	}
	t.Setenv("INIT_PW", "pw-init-Z9")
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "init-test-passphrase")
	h := testenv.LoadHelper(t, cfgPath)
	h.Stderr = &out
	r, err := h.Get(context.Background(), helper.Request{Profile: "m365"})
	if err != nil || !em.Valid(r.AccessToken) {
		t.Fatalf("get with the pin: %v", err)
	}
	// The pin is what makes it work: another key is refused.
	h.Config.Profiles["m365"].PinSHA256 = base64.StdEncoding.EncodeToString(make([]byte, 32))
	if _, err := helper.New(h.Config).Get(context.Background(), helper.Request{Profile: "m365", ForceRefresh: true}); exitcode.Of(err) != exitcode.Unreachable {
		t.Errorf("with a wrong pin: %v", err)
	}
}

// No --trust-server-key and no terminal: exit 2, the pin shown, nothing written.
func TestUnverifiedWithoutConsentWritesNothing(t *testing.T) {
	em, pin := server(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "sub", "config.toml")
	var out bytes.Buffer
	err := Run(context.Background(), Options{ConfigPath: cfgPath, Product: "vb365", URL: em.URL(), Username: "alice"}, nil, &out)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "--trust-server-key") || !strings.Contains(out.String(), pin) ||
		!strings.Contains(out.String(), "issuer:") {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("something was written: %v", err)
	}
	// On a terminal, "n" writes nothing either; "y" pins.
	err = Run(context.Background(), Options{ConfigPath: cfgPath, Product: "vb365", URL: em.URL(), Username: "alice"}, &answers{"", "n"}, &out)
	if exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("answer n: %v", err)
	}
	if _, err := os.Stat(cfgPath); !os.IsNotExist(err) {
		t.Errorf("written after n: %v", err)
	}
	ask := answers{"vb365", em.URL(), "alice", "", "y"}
	if err := Run(context.Background(), Options{ConfigPath: cfgPath}, &ask, &out); err != nil {
		t.Fatalf("prompted: %v", err)
	}
	b, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(b), "[profiles.vb365]") || !strings.Contains(string(b), pin) || !strings.Contains(out.String(), "login -p vb365") {
		t.Errorf("prompted file:\n%s\noutput:\n%s", b, out.String())
	}
}

// answers is a terminal that answers in turn.
type answers []string

func (a *answers) Ask(string) (string, error) {
	s := (*a)[0]
	*a = (*a)[1:]
	return s, nil
}

// A server the given CA verifies needs no pin: ca_file is written instead.
func TestVerifiedServerGetsNoPin(t *testing.T) {
	em, _ := server(t)
	dir, cfgPath := home(t)
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, em.CACertPEM(), 0o600)
	var out bytes.Buffer
	if err := Run(context.Background(), Options{ConfigPath: cfgPath, Product: "vb365", URL: em.URL(), Username: "alice", CAFile: ca, TrustServerKey: true}, nil, &out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfgPath)
	if strings.Contains(string(b), "pin_sha256") || !strings.Contains(string(b), "ca_file = '"+ca+"'") {
		t.Errorf("file:\n%s", b)
	}
}

// An existing profile is replaced only with --force; the rest of the file stays.
func TestExistingProfileNeedsForce(t *testing.T) {
	em, pin := server(t)
	_, cfgPath := home(t)
	before, _ := os.ReadFile(cfgPath)
	opts := Options{ConfigPath: cfgPath, Product: "vb365", URL: em.URL(), Username: "alice", Name: "old", TrustServerKey: true}
	var out bytes.Buffer
	err := Run(context.Background(), opts, nil, &out)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("%v", err)
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Fatalf("changed without --force:\n%s", after)
	}
	opts.Force = true
	if err := Run(context.Background(), opts, nil, &out); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(cfgPath)
	s := string(after)
	for _, keep := range []string{"# my settings: keep this comment", `backend = "file" # the file backend`, "# the old server", "# trailing comment", `default_profile = "old"`} {
		if !strings.Contains(s, keep) {
			t.Errorf("lost %q:\n%s", keep, s)
		}
	}
	if strings.Contains(s, "old.example") || strings.Count(s, "[profiles.old]") != 1 || !strings.Contains(s, pin) {
		t.Errorf("not replaced:\n%s", s)
	}
}

// A configuration file another user could change is refused, as the engine
// refuses it, and left as it is: merging would keep what they wrote.
func TestWritableConfigRefused(t *testing.T) {
	em, _ := server(t)
	_, cfgPath := home(t)
	if err := os.Chmod(cfgPath, 0o666); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfgPath)
	opts := Options{ConfigPath: cfgPath, Product: "vb365", URL: em.URL(), Username: "alice", Name: "new", TrustServerKey: true}
	err := Run(context.Background(), opts, nil, &bytes.Buffer{})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "writable by group or others") || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("%v", err)
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Fatalf("changed:\n%s", after)
	}
}

func TestMerge(t *testing.T) {
	table := "[profiles.b]\nurl = 'new'\n"
	for _, tc := range []struct{ in, want string }{
		{"", table},
		{"a = 1", "a = 1\n\n" + table},
		{"[profiles.a]\nx = 1\n", "[profiles.a]\nx = 1\n\n" + table},
		{"[profiles.b]\nurl = 'old'\n\n# about c\n[profiles.c]\nx = 2\n", table + "\n# about c\n[profiles.c]\nx = 2\n"},
		{"# top\n[profiles.b]\nurl = 'old'\n", "# top\n" + table},
	} {
		got, err := merge([]byte(tc.in), "b", table)
		if err != nil || string(got) != tc.want {
			t.Errorf("merge(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := merge([]byte("[profiles]\nb.url = 'x'\n"), "b", table); err == nil {
		t.Error("a dotted-key profile was merged blindly")
	}
}

// Where the cache will be the file backend and no passphrase is at hand,
// init says so before "Next:": following "Next:" alone would end in exit 6.
func TestPassphraseHint(t *testing.T) {
	em, _ := server(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "") // no keychain candidate: auto is the file backend on Linux
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "")
	_, cfgPath := home(t) // backend = "file"
	var out bytes.Buffer
	opts := Options{ConfigPath: cfgPath, Product: "vb365", URL: em.URL(), Username: "alice", PasswordEnv: "INIT_PW", TrustServerKey: true}
	if err := Run(context.Background(), opts, nil, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if i, j := strings.Index(s, "export VEEAM_CREDENTIAL_HELPER_PASSPHRASE="), strings.Index(s, "Next:"); i < 0 || j < i {
		t.Errorf("no passphrase hint before Next:\n%s", s)
	}

	env := map[string]string{}
	get := func(k string) string { return env[k] }
	cases := []struct {
		cache config.CacheConfig
		env   map[string]string
		hint  bool
	}{
		{config.CacheConfig{}, nil, runtime.GOOS == "linux"},
		{config.CacheConfig{Backend: "auto"}, nil, runtime.GOOS == "linux"},
		{config.CacheConfig{Backend: "file"}, nil, true},
		{config.CacheConfig{Backend: "file"}, map[string]string{"VEEAM_CREDENTIAL_HELPER_PASSPHRASE": "x"}, false},
		{config.CacheConfig{Backend: "file", PassphraseEnv: "MY_PP"}, map[string]string{"VEEAM_CREDENTIAL_HELPER_PASSPHRASE": "x"}, true},
		{config.CacheConfig{Backend: "file", PassphraseEnv: "MY_PP"}, map[string]string{"MY_PP": "x"}, false},
		{config.CacheConfig{Backend: "file", PassphraseCommand: []string{"pass", "show", "vch"}}, nil, false},
		{config.CacheConfig{Backend: "keyctl"}, nil, false},
		{config.CacheConfig{Backend: "etcd"}, nil, false},
	}
	for _, c := range cases {
		env = c.env
		h := passphraseHint(c.cache, get)
		if (h != "") != c.hint {
			t.Errorf("%+v with %v: hint %q, want one: %v", c.cache, c.env, h, c.hint)
		}
		if c.cache.PassphraseEnv != "" && h != "" && !strings.Contains(h, "export "+c.cache.PassphraseEnv+"=") {
			t.Errorf("hint names the wrong variable: %q", h)
		}
	}
}
