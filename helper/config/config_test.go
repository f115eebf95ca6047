package config

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

const goodConfig = `default_profile = "m365"

[cache]
backend = "file"

[profiles.m365]
product = "vb365"
url = "https://vb365.example.com:4443/"
username = 'corp\svc-backup'
password_env = "VB365_PASSWORD"
refresh_before = "90s"

[profiles.azure]
product = "vbazure"
url = "https://azure.example.com"
username = "admin"
api_version = "v8"
`

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := Parse([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Profile("")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "m365" || p.Grant != "password" || p.URL != "https://vb365.example.com:4443" {
		t.Errorf("profile = %+v", p)
	}
	if p.RefreshBefore.Seconds() != 90 || p.Timeout.Duration != DefaultTimeout {
		t.Errorf("durations = %v %v", p.RefreshBefore, p.Timeout)
	}
	if !p.AntiforgeryDisabled() {
		t.Error("disable_antiforgery_token must default to true")
	}
	if cfg.Cache.PassphraseEnv != DefaultPassphraseEnv {
		t.Errorf("passphrase_env = %q", cfg.Cache.PassphraseEnv)
	}
	a := cfg.Profiles["azure"]
	if a.CacheKey() == p.CacheKey() {
		t.Error("two identities share a cache key")
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string // substrings of the message
	}{
		{"unknown key", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\npasword_env = \"X\"\n", []string{"line 5", `"profiles.a.pasword_env"`}},
		{"unknown table", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n[cache2]\nx = 1\n", []string{"unknown configuration key", "cache2"}},
		{"wrong type", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = 7\n", []string{"line 4", "username"}},
		{"bad duration", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\ntimeout = \"soon\"\n", []string{"line 5", "not a duration"}},
		{"syntax", "[profiles.a\n", []string{"line "}},
		{"literal password", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\npassword = \"hunter2\"\n", []string{"password_env", "password_file", "password_command", "login"}},
		{"unknown product", "[profiles.a]\nproduct = \"vbx\"\nurl = \"https://h\"\n", []string{`"vbx"`, "vb365", "vbazure"}},
		{"bad grant", "[profiles.a]\nproduct = \"vbazure\"\nurl = \"https://h\"\nusername = \"u\"\ngrant = \"operator\"\n", []string{"operator", "password"}},
		{"jwt without client", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\ngrant = \"jwt-bearer\"\n", []string{"client_id"}},
		{"bad url", "[profiles.a]\nproduct = \"vb365\"\nurl = \"vb365:4443\"\nusername = \"u\"\n", []string{"url"}},
		{"bad default", "default_profile = \"x\"\n[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n", []string{`"x"`}},
		{"no profiles", "", []string{"no profiles"}},
		{"bad backend", "[cache]\nbackend = \"vault\"\n[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n", []string{"vault"}},
		{"bad git_hosts", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\ngit_hosts = [\"h/path\"]\n", []string{"git_hosts", "h/path"}},
		{"bad pin", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\npin_sha256 = \"abc\"\n", []string{"pin_sha256"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			if exitcode.Of(err) != exitcode.Usage {
				t.Errorf("exit %d, want %d", exitcode.Of(err), exitcode.Usage)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Error("error shows the password")
			}
		})
	}
}

func TestProfileResolution(t *testing.T) {
	cfg, err := Parse([]byte(strings.Replace(goodConfig, `default_profile = "m365"`, "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Profile(""); err == nil || !strings.Contains(err.Error(), "-p") {
		t.Errorf("two profiles, no default: %v", err)
	}
	if p, err := cfg.Profile("azure"); err != nil || p.Name != "azure" {
		t.Errorf("by name: %v %v", p, err)
	}
	if _, err := cfg.Profile("nope"); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "azure, m365") {
		t.Errorf("unknown: %v", err)
	}
	one, err := Parse([]byte("[profiles.only]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := one.Profile(""); err != nil || p.Name != "only" {
		t.Errorf("only profile: %v %v", p, err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte("[profiles.a]\nproduct = \"vb365\"\n"))
	f.Add([]byte("x = [1, {a=2}]\n[[t]]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b)
		if err == nil {
			if len(cfg.Profiles) == 0 {
				t.Fatal("accepted a config without profiles")
			}
			return
		}
		if exitcode.Of(err) != exitcode.Usage {
			t.Fatalf("exit %d for %v", exitcode.Of(err), err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
	})
}

func TestKeyLine(t *testing.T) {
	text := `default_profile = "a"
[cache]
backend = "file"
  "dir" = "/x"

[profiles.a]
product = "vb365"
prodcut = "typo"
[ profiles.b.extra ]
x = 1
[profiles.c]
	timeout	= "1s"
`
	for _, tc := range []struct {
		key  toml.Key
		line int
	}{
		{toml.Key{"default_profile"}, 1},
		{toml.Key{"cache", "backend"}, 3},
		{toml.Key{"cache", "dir"}, 4},
		{toml.Key{"profiles", "a", "prodcut"}, 8},
		{toml.Key{"profiles", "b", "extra"}, 9},
		{toml.Key{"profiles", "b", "extra", "x"}, 10},
		{toml.Key{"profiles", "c", "timeout"}, 12},
		{toml.Key{"profiles", "a", "missing"}, 0},
		{toml.Key{"product"}, 0}, // not at top level
	} {
		if got := keyLine([]byte(text), tc.key); got != tc.line {
			t.Errorf("keyLine(%s) = %d, want %d", tc.key, got, tc.line)
		}
	}
}

// A first run without a configuration points at init, which writes one that
// passes the ownership and mode checks, not only at the README.
func TestMissingFileNamesInit(t *testing.T) {
	_, err := Load(t.TempDir() + "/config.toml")
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "veeam-credential-helper init") {
		t.Fatalf("%v", err)
	}
}
