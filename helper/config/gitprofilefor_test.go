package config

import (
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// -p names the profile git must get; a host that is not that profile's is
// an error naming both, never another profile's token. $VEEAM_PROFILE only
// breaks ties.
func TestGitProfileForFlagMustServeTheHost(t *testing.T) {
	cfg, err := Parse([]byte(gitHostConfig))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.GitProfileFor("https", "vb365.example.com:4443", "", "a", "")
	if err != nil || p == nil || p.Name != "a" {
		t.Fatalf("-p a on a's host: %v %v", p, err)
	}
	p, err = cfg.GitProfileFor("https", "vb365.example.com:4443", "", "b", "")
	if p != nil || err == nil || exitcode.Of(err) != exitcode.Usage ||
		!strings.Contains(err.Error(), `profile "b"`) || !strings.Contains(err.Error(), "vb365.example.com:4443") || !strings.Contains(err.Error(), "git_hosts") {
		t.Fatalf("-p b on a's host: %v %v", p, err)
	}
	if _, err := cfg.GitProfileFor("https", "vb365.example.com:4443", "", "nope", ""); err == nil || !strings.Contains(err.Error(), `unknown profile "nope"`) {
		t.Fatalf("-p nope: %v", err)
	}
	if _, err := cfg.GitProfileFor("https", "shared.example.com:4443", "app-7", "d", ""); err == nil || !strings.Contains(err.Error(), `"app-7"`) {
		t.Fatalf("-p d with git's user app-7: %v", err)
	}
	// Not an http(s) host at all: no answer, git's other helpers go on.
	if p, err := cfg.GitProfileFor("ssh", "vb365.example.com", "", "a", ""); p != nil || err != nil {
		t.Fatalf("ssh: %v %v", p, err)
	}
	// $VEEAM_PROFILE naming another profile does not stop the only match.
	p, err = cfg.GitProfileFor("https", "vb365.example.com:4443", "", "", "b")
	if err != nil || p == nil || p.Name != "a" {
		t.Fatalf("VEEAM_PROFILE=b on a's host: %v %v", p, err)
	}
	// ...and chooses among several.
	p, err = cfg.GitProfileFor("https", "shared.example.com:4443", "", "", "e")
	if err != nil || p == nil || p.Name != "e" {
		t.Fatalf("VEEAM_PROFILE=e on the shared host: %v %v", p, err)
	}
}
