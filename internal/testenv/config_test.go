package testenv

import (
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// What the builder writes is what the engine reads: every field lands in
// the key of the same name.
func TestConfigTOMLParses(t *testing.T) {
	no := false
	c := Config{
		DefaultProfile: "a b",
		Profiles: []Profile{
			{Name: "a b", Product: "vb365", URL: "https://h:4443", Username: `corp\svc`, PasswordEnv: "PW",
				CAFile: `C:\certs\ca.pem`, RefreshBefore: "10s", Timeout: "2s", DisableAntiforgeryToken: &no,
				GitHosts: []string{"git.example:8443"}, MFACodeCommand: []string{"sh", "-c", `echo "1"`}},
			{Name: "key", Product: "vspc", URL: "https://v", Grant: "api-key", APIKeyFile: "/k", Extra: `api_version = "3.5"`},
		},
		Cache: Cache{Backend: "file", Dir: "/tmp/c", PassphraseEnv: "PP"},
	}
	cfg, err := config.Parse([]byte(c.TOML()))
	if err != nil {
		t.Fatalf("%v\n%s", err, c.TOML())
	}
	p := cfg.Profiles["a b"]
	if cfg.DefaultProfile != "a b" || p == nil || p.Username != `corp\svc` || p.CAFile != `C:\certs\ca.pem` ||
		p.RefreshBefore.Seconds() != 10 || p.Timeout.Seconds() != 2 || p.DisableAntiforgeryToken == nil || *p.DisableAntiforgeryToken ||
		len(p.GitHosts) != 1 || len(p.MFACodeCommand) != 3 || p.MFACodeCommand[2] != `echo "1"` || p.Grant != "password" {
		t.Fatalf("profile %+v from\n%s", p, c.TOML())
	}
	if k := cfg.Profiles["key"]; k == nil || k.APIKeyFile != "/k" || k.APIVersion != "3.5" {
		t.Fatalf("profile key %+v", k)
	}
	if cfg.Cache.Dir != "/tmp/c" || cfg.Cache.PassphraseEnv != "PP" {
		t.Fatalf("cache %+v", cfg.Cache)
	}
}
