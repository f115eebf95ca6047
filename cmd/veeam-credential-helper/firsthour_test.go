package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// --version is version; help lists each flag once, GNU style, with examples.
func TestVersionFlagAndGNUHelp(t *testing.T) {
	e, _ := vb365Env(t, nil)
	v := e.Run("", "version")
	mustOK(t, v)
	if r := e.Run("", "--version"); r.Exit != 0 || r.Stdout != v.Stdout || !strings.HasPrefix(r.Stdout, "veeam-credential-helper ") {
		t.Errorf("--version %+v, version %q", r, v.Stdout)
	}
	r := e.Run("", "--help")
	mustOK(t, r)
	if !strings.Contains(r.Stdout, "-p, --profile NAME") || strings.Count(r.Stdout, "--profile") != 1 || !strings.Contains(r.Stdout, "--config PATH") {
		t.Errorf("--help:\n%s", r.Stdout)
	}
	for _, cmd := range []string{"get", "exec", "status", "init", "completion", "git", "login", "logout", "demo"} {
		r := e.Run("", cmd, "--help")
		mustOK(t, r)
		if !strings.Contains(r.Stdout, "-p, --profile NAME") || strings.Contains(r.Stdout, "\n  -profile") || strings.Contains(r.Stdout, "short for") ||
			!strings.Contains(r.Stdout, "Examples:\n  ") {
			t.Errorf("%s --help:\n%s", cmd, r.Stdout)
		}
	}
}

// completion bash: bash accepts the script, and completing through it
// (COMP_WORDS as bash sets them) gives commands, flags, profile names from
// the configuration and formats.
func TestCompletionBash(t *testing.T) {
	bash := requireTool(t, "bash")
	e, _ := vb365Env(t, nil)
	other := e.Config.Profiles[0]
	other.Name = "other"
	e.Profiles(e.Config.Profiles[0], other)
	r := e.Run("", "completion", "bash")
	mustOK(t, r)
	script := filepath.Join(e.Dir, "completion.bash")
	writeFile(t, script, r.Stdout)
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v %s", err, out)
	}
	// The script calls veeam-credential-helper by name: put the test build first on PATH.
	binDir := filepath.Dir(testenv.Binary(t))
	complete := func(words ...string) string {
		t.Helper()
		sh := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _veeam_credential_helper; printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '`
		cmd := exec.Command(bash, append([]string{"-c", sh, "bash", script, "veeam-credential-helper"}, words...)...)
		cmd.Env = append(e.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("complete %q: %v", words, err)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"st"}, "status"},
		{[]string{"ex"}, "exec exec-credential"},
		{[]string{"-p", ""}, "m365 other"},
		{[]string{"get", "--profile", "o"}, "other"},
		{[]string{"get", "--format", ""}, "curl env header json token"},
		{[]string{"get", "--f"}, "--force-refresh --format"},
		{[]string{"-p", "m365", "stat"}, "status"},
		{[]string{"git", ""}, "erase get store"},
		{[]string{"completion", "z"}, "zsh"},
		{[]string{"init", "--product", "vbr"}, "vbr"},
		{[]string{"--config", "/nonexistent", "get", "-p", ""}, ""},
	} {
		if got := complete(tc.words...); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.words, got, tc.want)
		}
	}
	for _, shell := range []string{"zsh", "fish", "powershell"} {
		r := e.Run("", "completion", shell)
		if r.Exit != 0 || !strings.Contains(r.Stdout, "completion --profiles") || !strings.Contains(r.Stdout, "exec-credential") {
			t.Errorf("completion %s: %+v", shell, r)
		}
	}
	if r := e.Run("", "completion", "tcsh"); r.Exit != 2 || !strings.Contains(r.Stderr, "powershell") {
		t.Errorf("completion tcsh: %+v", r)
	}
}

// init without a terminal and without --trust-server-key, against the
// emulator's self-signed certificate: exit 2, the pin shown, nothing
// written. With the flag the profile is merged in and `get` works.
func TestInitTrustOnFirstUse(t *testing.T) {
	e, em := vb365Env(t, nil)
	before := readFile(t, e.ConfigPath)
	args := []string{"init", "--product", "vb365", "--url", em.URL(), "--username", m365User, "--name", "pinned", "--password-env", "VB365_PASSWORD"}
	r := e.Run("", args...)
	if r.Exit != 2 || !strings.Contains(r.Stderr, "pin_sha256") || !strings.Contains(r.Stderr, "--trust-server-key") || r.Stdout != "" {
		t.Fatalf("no consent: %+v", r)
	}
	if readFile(t, e.ConfigPath) != before {
		t.Fatal("the configuration changed without consent")
	}
	r = e.Run("", append(args, "--trust-server-key")...)
	mustOK(t, r)
	after := readFile(t, e.ConfigPath)
	if !strings.HasPrefix(after, before) || !strings.Contains(after, "pin_sha256 = ") || strings.Contains(after, m365Password) {
		t.Fatalf("config:\n%s", after)
	}
	r = e.Run("", "-p", "pinned", "get", "--format", "token", "--no-stdin")
	mustOK(t, r)
	if !em.Valid(strings.TrimSpace(r.Stdout)) {
		t.Errorf("token %q", r.Stdout)
	}
	if r = e.Run("", append(args, "--trust-server-key")...); r.Exit != 2 || !strings.Contains(r.Stderr, "--force") {
		t.Errorf("again without --force: %+v", r)
	}
}
