//go:build unix

package config

import (
	"github.com/veeam-tools/veeam-credential-helper/exitcode"

	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A file another user could change (or, for a secret, read) is refused with
// one line naming the file, its owner and mode and the fix, as ssh does.
func TestReadTrusted(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x = 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		mode   os.FileMode
		secret bool
		want   []string // substrings of the refusal; nil: accepted
	}{
		{"config 0600", 0o600, false, nil},
		{"config 0644", 0o644, false, nil},
		{"config 0444", 0o444, false, nil},
		{"config group-writable", 0o664, false, []string{"writable by group or others", "mode 0664", "chmod go-w"}},
		{"config world-writable", 0o646, false, []string{"writable by group or others", "mode 0646", "chmod go-w"}},
		{"secret 0600", 0o600, true, nil},
		{"secret 0400", 0o400, true, nil},
		{"secret group-readable", 0o640, true, []string{"readable by group or others", "mode 0640", "chmod 600"}},
		{"secret world-readable", 0o604, true, []string{"readable by group or others", "mode 0604", "chmod 600"}},
	} {
		p := write(strings.ReplaceAll(tc.name, " ", "-"), tc.mode)
		b, err := ReadTrusted(p, "password_file", tc.secret)
		if tc.want == nil {
			if err != nil || string(b) != "x = 1\n" {
				t.Errorf("%s: %q, %v", tc.name, b, err)
			}
			continue
		}
		if err == nil || exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%s: accepted (err %v)", tc.name, err)
			continue
		}
		msg := err.Error()
		for _, w := range append(tc.want, p, "password_file", "owner uid ") {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tc.name, msg, w)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: not one line: %q", tc.name, msg)
		}
	}
}

// A file owned by another user is refused even with a safe mode; one owned
// by the caller or root is accepted. Needs root to give a file away (CI and
// the development machines run tests as root).
func TestReadTrustedOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(goodConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatalf("root-owned config: %v", err)
	}
	const unused = 54321 // no such user on the machine
	if err := os.Chown(p, unused, unused); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "owned by another user") ||
		!strings.Contains(err.Error(), "owner uid 54321") || !strings.Contains(err.Error(), "chown 0 "+p) {
		t.Fatalf("config owned by uid %d: %v", unused, err)
	}
	// The same with a secret file.
	if _, err := ReadTrusted(p, "password_file", true); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "owned by another user") {
		t.Fatalf("secret owned by uid %d: %v", unused, err)
	}
}

// Load applies the check before parsing: a group-writable configuration
// is refused even when it is valid, and the refusal never quotes its text.
func TestLoadRefusesWritableConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(goodConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o620); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "configuration file "+p+" is writable by group or others") ||
		strings.Contains(err.Error(), "VB365_PASSWORD") {
		t.Fatalf("group-writable config: %v", err)
	}
}

// A relative cache.dir is resolved against the configuration file's
// directory, not the working directory (git runs helpers inside trees).
func TestRelativeCacheDir(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(strings.Replace(goodConfig, `backend = "file"`, "backend = \"file\"\ndir = \"cache/tokens\"", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "cache", "tokens"); cfg.Cache.Dir != want {
		t.Fatalf("cache.dir = %q, want %q", cfg.Cache.Dir, want)
	}
}

// A FIFO where the configuration or a secret file should be is refused at
// once: opening it for reading would wait for a writer forever.
func TestReadTrustedFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("FIFO config: %v", err)
	}
}

// Every relative path the configuration names (ca_file, the *_file
// secrets, the fleet's files, a command given as a relative path) is
// resolved beside the configuration file, as cache.dir is: git runs
// helpers inside working trees, where a relative ca_file would trust the
// repository's CA and a "./get-password" would run the repository's code.
func TestRelativePathsBesideConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	text := `[cache]
backend = "etcd"
passphrase_command = ["./bin/passphrase", "--quiet"]

[cache.etcd]
endpoints = ["https://etcd-1:2379"]
ca_file = "etcd/ca.pem"
cert_file = "etcd/client.pem"
key_file = "etcd/client-key.pem"
username = "fleet"
password_file = "etcd/password"

[profiles.a]
product = "vb365"
url = "https://vb365.example.com:4443"
username = "u"
password_file = "secrets/a"
ca_file = "ca.pem"
mfa_code_command = ["totp"]

[profiles.b]
product = "vspc"
url = "https://vspc.example.com"
grant = "api-key"
api_key_command = ["scripts/key.sh", "relative/arg"]

[profiles.c]
product = "vb365"
url = "https://c.example.com:4443"
client_id = "c"
grant = "jwt-bearer"
assertion_file = "/etc/absolute"
assertion_command = ["../up/assert"]
`
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	beside := func(rel string) string { return filepath.Join(dir, rel) }
	a, b, c, e := cfg.Profiles["a"], cfg.Profiles["b"], cfg.Profiles["c"], cfg.Cache.Etcd
	for _, got := range []struct{ what, got, want string }{
		{"a.password_file", a.PasswordFile, beside("secrets/a")},
		{"a.ca_file", a.CAFile, beside("ca.pem")},
		{"a.mfa_code_command[0] (found on PATH)", a.MFACodeCommand[0], "totp"},
		{"b.api_key_command[0]", b.APIKeyCommand[0], beside("scripts/key.sh")},
		{"b.api_key_command[1] (an argument)", b.APIKeyCommand[1], "relative/arg"},
		{"c.assertion_file", c.AssertionFile, "/etc/absolute"},
		{"c.assertion_command[0]", c.AssertionCommand[0], filepath.Join(filepath.Dir(dir), "up", "assert")},
		{"cache.passphrase_command[0]", cfg.Cache.PassphraseCommand[0], beside("bin/passphrase")},
		{"cache.etcd.ca_file", e.CAFile, beside("etcd/ca.pem")},
		{"cache.etcd.cert_file", e.CertFile, beside("etcd/client.pem")},
		{"cache.etcd.key_file", e.KeyFile, beside("etcd/client-key.pem")},
		{"cache.etcd.password_file", e.PasswordFile, beside("etcd/password")},
	} {
		if got.got != got.want {
			t.Errorf("%s = %q, want %q", got.what, got.got, got.want)
		}
	}
}
