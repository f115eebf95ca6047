package main

// Security properties (issue 6): TLS trust, refused literal passwords, the
// cache directory's permissions, secrets never in output, argv or messages,
// malformed input. Every case runs the real binary.

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// assertOneLineNoLeak checks the failure output shape shared by every fault:
// one line on stderr, a JSON error object on stdout, and none of the given
// strings anywhere.
func assertOneLineNoLeak(t *testing.T, r testenv.Result, forbidden ...string) {
	t.Helper()
	if strings.Count(r.Stderr, "\n") != 1 || !strings.HasSuffix(r.Stderr, "\n") {
		t.Errorf("stderr is not exactly one line: %q", r.Stderr)
	}
	if len(r.Stderr) > 600 {
		t.Errorf("stderr line is %d bytes: a body was dumped? %q", len(r.Stderr), r.Stderr)
	}
	testenv.NoSecrets(t, "output (stdout then stderr)", r.Stdout+r.Stderr, nil, forbidden...)
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

const leakWrongPassword = "wrong-PW-Secret-1"

var accessTokenRe = regexp.MustCompile(`vb365-at-[A-Za-z0-9_-]+`)

// What the binary prints of each command (the flow's errors and warnings
// are tested in package helper): stdout carries the answer's access token
// and nothing else secret, stderr no secret at all, in every format and
// client protocol.
func TestSecretsNeverInOutput(t *testing.T) {
	e, m := vb365Env(t, nil)
	p := e.Config.Profiles[0]
	p.GitHosts = []string{strings.TrimPrefix(m.URL(), "https://")}
	e.Profiles(p)
	secrets := append([]string{m365Password, leakWrongPassword, testenv.Passphrase, emulator.StackTraceMarker}, m.TokenPrefixes()...)
	host := strings.TrimPrefix(m.URL(), "https://")
	execInfo := `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	logout := func() { e.Run("", "logout") }
	for _, sc := range []struct {
		name   string
		setup  func()
		stdin  string
		args   []string
		exit   int
		answer bool // stdout carries one access token (the answer)
	}{
		{name: "grant", setup: logout, args: []string{"--debug", "get"}, answer: true},
		{name: "cache", args: []string{"get"}, answer: true},
		{name: "refresh", args: []string{"--debug", "get", "--force-refresh"}, answer: true},
		{name: "wrong password", setup: logout, stdin: `{"password":"` + leakWrongPassword + `"}`, args: []string{"--debug", "get"}, exit: 3},
		{name: "wrong password, token format", stdin: `{"password":"` + leakWrongPassword + `"}`, args: []string{"get", "--format", "token"}, exit: 3},
		{name: "login wrong password", stdin: leakWrongPassword + "\n", args: []string{"login", "--password-stdin"}, exit: 3},
		{name: "login", stdin: m365Password + "\n", args: []string{"login", "--password-stdin"}},
		{name: "header format", args: []string{"get", "--format", "header"}, answer: true},
		{name: "env format", args: []string{"get", "--format", "env"}, answer: true},
		{name: "curl format", args: []string{"get", "--format", "curl"}, answer: true},
		{name: "git get", stdin: "protocol=https\nhost=" + host + "\n\n", args: []string{"--debug", "git", "get"}, answer: true},
		{name: "git erase", stdin: "protocol=https\nhost=" + host + "\n\n", args: []string{"git", "erase"}},
		{name: "exec-credential", setup: func() { e.Vars["KUBERNETES_EXEC_INFO"] = execInfo }, args: []string{"--debug", "exec-credential"}, answer: true},
		{name: "auth-code", args: []string{"auth-code"}},
		{name: "status", args: []string{"status"}},
		{name: "status json", args: []string{"status", "--json"}},
		{name: "logout", args: []string{"--debug", "logout", "--all"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			if sc.setup != nil {
				sc.setup()
			}
			defer delete(e.Vars, "KUBERNETES_EXEC_INFO")
			r := e.Run(sc.stdin, sc.args...)
			if r.Exit != sc.exit {
				t.Fatalf("exit %d, want %d\nstdout=%q\nstderr=%q", r.Exit, sc.exit, r.Stdout, r.Stderr)
			}
			testenv.NoSecrets(t, "stderr", r.Stderr, nil, secrets...)
			out := r.Stdout
			if sc.answer {
				toks := accessTokenRe.FindAllString(out, -1)
				slices.Sort(toks)
				if toks = slices.Compact(toks); len(toks) != 1 {
					t.Errorf("stdout holds %d distinct access tokens, want the answer's one: %q", len(toks), out)
				}
				out = accessTokenRe.ReplaceAllString(out, "")
			}
			if sc.name == "auth-code" {
				out = regexp.MustCompile(`vb365-ac-[A-Za-z0-9_-]+`).ReplaceAllString(out, "")
			}
			testenv.NoSecrets(t, "stdout outside the answer", out, nil, secrets...)
			if strings.Contains(r.Stderr, "goroutine ") || strings.Contains(r.Stderr, "panic") {
				t.Errorf("a panic or stack reached stderr:\n%s", r.Stderr)
			}
		})
	}
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
