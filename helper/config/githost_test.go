package config

import (
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

const gitHostConfig = `
[profiles.a]
product = "vb365"
url = "https://vb365.example.com:4443"
username = 'corp\alice'
password_env = "X"

[profiles.b]
product = "vb365"
url = "https://VB365.example.com:443"
username = "bob"
password_env = "X"

[profiles.c]
product = "vbazure"
url = "http://azure.example.com"
insecure_plain_http = true
username = "carol"
password_env = "X"
git_hosts = ["git.example.com:8443", "https://mirror.example.com", "[::1]:9000", "Alias.Example.com"]

[profiles.d]
product = "vb365"
url = "https://shared.example.com:4443"
username = "dave"
password_env = "X"

[profiles.e]
product = "vb365"
url = "https://shared.example.com:4443/"
grant = "jwt-bearer"
client_id = "app-7"
assertion_env = "Y"

[profiles.f]
product = "vb365"
url = "https://f.example.com"
username = "frank"
password_env = "X"
git_hosts = ["plain.example.com", "plain.example.com:8080"]
`

func TestGitProfile(t *testing.T) {
	cfg, err := Parse([]byte(gitHostConfig))
	if err != nil {
		t.Fatal(err)
	}
	withDefault, err := Parse([]byte("default_profile = \"e\"\n" + gitHostConfig))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                 string
		cfg                  *Config
		protocol, host, user string
		prefer               string
		want                 string // profile name, "" = no match
		wantErr              string // substring of a usage error
	}{
		{name: "explicit port", protocol: "https", host: "vb365.example.com:4443", want: "a"},
		{name: "host case", protocol: "https", host: "VB365.Example.COM:4443", want: "a"},
		{name: "wrong port", protocol: "https", host: "vb365.example.com:4444"},
		{name: "scheme differs", protocol: "http", host: "vb365.example.com:4443"},
		{name: "protocol case", protocol: "HTTPS", host: "vb365.example.com:4443", want: "a"},
		{name: "default https port omitted by git", protocol: "https", host: "vb365.example.com", want: "b"},
		{name: "default https port sent", protocol: "https", host: "vb365.example.com:443", want: "b"},
		{name: "default http port", protocol: "http", host: "azure.example.com", want: "c"},
		{name: "http url not https", protocol: "https", host: "azure.example.com"},
		{name: "git_hosts host:port", protocol: "https", host: "git.example.com:8443", want: "c"},
		{name: "git_hosts host:port any scheme", protocol: "http", host: "git.example.com:8443", want: "c"},
		{name: "git_hosts host:port wrong port", protocol: "https", host: "git.example.com"},
		{name: "git_hosts scheme", protocol: "https", host: "mirror.example.com", want: "c"},
		{name: "git_hosts scheme mismatch", protocol: "http", host: "mirror.example.com"},
		{name: "git_hosts ipv6", protocol: "https", host: "[::1]:9000", want: "c"},
		{name: "git_hosts no port https", protocol: "https", host: "alias.example.com", want: "c"},
		{name: "git_hosts no port http", protocol: "http", host: "alias.example.com:80", want: "c"},
		{name: "git_hosts no port, other port", protocol: "https", host: "alias.example.com:8443"},
		{name: "unknown host", protocol: "https", host: "github.com"},
		// Without insecure_plain_http, git over http gets no token: a
		// mistyped remote or a submodule's http:// URL would otherwise send
		// it in cleartext to whoever answers 401 there.
		{name: "scheme-less git_hosts, https", protocol: "https", host: "plain.example.com", want: "f"},
		{name: "scheme-less git_hosts, http not opted in", protocol: "http", host: "plain.example.com"},
		{name: "scheme-less git_hosts with port, http not opted in", protocol: "http", host: "plain.example.com:8080"},
		{name: "https url, http asked", protocol: "http", host: "f.example.com:443"},
		{name: "suffix is not a match", protocol: "https", host: "xvb365.example.com:4443"},
		{name: "empty host", protocol: "https", host: ""},
		{name: "ssh protocol", protocol: "ssh", host: "vb365.example.com:4443"},
		{name: "malformed host", protocol: "https", host: "a:b:c"},
		{name: "username selects", protocol: "https", host: "vb365.example.com:4443", user: `corp\alice`, want: "a"},
		{name: "other username", protocol: "https", host: "vb365.example.com:4443", user: "mallory"},
		{name: "client_id is the username", protocol: "https", host: "shared.example.com:4443", user: "app-7", want: "e"},
		{name: "several, no choice", protocol: "https", host: "shared.example.com:4443", wantErr: "matches profiles d, e"},
		{name: "several, -p", protocol: "https", host: "shared.example.com:4443", prefer: "d", want: "d"},
		{name: "several, default_profile", cfg: withDefault, protocol: "https", host: "shared.example.com:4443", want: "e"},
		{name: "several, -p beats default_profile", cfg: withDefault, protocol: "https", host: "shared.example.com:4443", prefer: "d", want: "d"},
		{name: "-p not among matches falls to default_profile", cfg: withDefault, protocol: "https", host: "shared.example.com:4443", prefer: "a", want: "e"},
		{name: "-p never sends a token to another host", protocol: "https", host: "github.com", prefer: "a"},
		{name: "single match ignores -p", protocol: "https", host: "vb365.example.com:4443", prefer: "b", want: "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			if c == nil {
				c = cfg
			}
			p, err := c.GitProfile(tc.protocol, tc.host, tc.user, tc.prefer)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitcode.Of(err) != exitcode.Usage {
					t.Fatalf("err = %v (exit %d), want usage error containing %q", err, exitcode.Of(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if p != nil {
				got = p.Name
			}
			if got != tc.want {
				t.Fatalf("profile = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGitProfileBadGitHosts(t *testing.T) {
	for _, entry := range []string{"http://x.example.com", "ftp://x.example.com", "x.example.com/path", "https://", "user@x.example.com", "a:b:c"} {
		cfg, err := Parse([]byte(`
[profiles.x]
product = "vb365"
url = "https://vb365.example.com"
password_env = "X"
username = "u"
git_hosts = ["` + entry + `"]
`))
		// Refused when the configuration loads, not only when git asks.
		if cfg != nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "git_hosts") {
			t.Errorf("git_hosts %q: err = %v", entry, err)
		}
	}
}

// An http:// url is refused unless the profile opts in: never a password
// over plain HTTP by accident.
func TestPlainHTTPNeedsOptIn(t *testing.T) {
	const profile = `
[profiles.x]
product = "vb365"
url = "http://vb365.example.com"
password_env = "X"
username = "u"
`
	_, err := Parse([]byte(profile))
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "insecure_plain_http = true") || !strings.Contains(err.Error(), "http://vb365.example.com") {
		t.Fatalf("http url without opt-in: err = %v (exit %d)", err, exitcode.Of(err))
	}
	cfg, err := Parse([]byte(profile + "insecure_plain_http = true\ngit_hosts = [\"http://git.example.com\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Profiles["x"].PlainHTTP() {
		t.Fatal("PlainHTTP false for an opted-in http url")
	}
	if p, err := cfg.GitProfile("http", "git.example.com", "", ""); err != nil || p == nil {
		t.Fatalf("opted-in http git_hosts entry: %v, %v", p, err)
	}
}
