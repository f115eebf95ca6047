package commands

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// The JSON request's secrets reach the engine: a password, an assertion,
// an MFA code; a wrong one is exit 3 and never echoed.
func TestJSONRequestSecrets(t *testing.T) {
	e := newHome(t)
	m := e.Emulator(emulator.Options{Product: "vb365"})
	m.AddUser(m365User, m365Password)
	m.AddJWTClient("app-1", "jwt-assertion-secret-A")
	az := e.Emulator(emulator.Options{Product: "vbazure"})
	az.AddMFAUser("mfa-admin", "pw-Azure-2", "424242")
	pw := e.ProfileOf("m365", "vb365")
	pw.Username = m365User
	app := e.ProfileOf("app", "vb365")
	app.Grant, app.ClientID = "jwt-bearer", "app-1"
	mfa := e.ProfileOf("mfa", "vbazure")
	mfa.Username = "mfa-admin"
	e.Profiles(pw, app, mfa)
	for _, tc := range []struct {
		request string
		em      *emulator.Emulator
	}{
		{`{"profile":"m365","password":"` + m365Password + `"}`, m},
		{`{"profile":"app","assertion":"jwt-assertion-secret-A"}`, m},
		{`{"profile":"mfa","password":"pw-Azure-2","mfa_code":"424242"}`, az},
	} {
		r := e.Run(tc.request, "get")
		mustOK(t, r)
		if a := decode(t, r); a.Source != "grant" || !tc.em.Valid(a.AccessToken) {
			t.Errorf("%s: %+v", tc.request, a)
		}
	}
	e.Run("", "-p", "mfa", "logout")
	r := e.Run(`{"profile":"mfa","password":"pw-Azure-2","mfa_code":"999111"}`, "get")
	if r.Exit != 3 || strings.Contains(r.Stderr+r.Stdout, "999111") {
		t.Errorf("wrong code: exit %d stderr %q", r.Exit, r.Stderr)
	}
}

func TestBadRequestsAndConfig(t *testing.T) {
	e, _ := vb365Env(t, nil)
	cases := []struct {
		name, stdin string
		args        []string
		exit        int
		want        string
	}{
		{"unknown request field", `{"profle":"m365"}`, []string{"get"}, 2, "profle"},
		{"malformed JSON", `{"profile":`, []string{"get"}, 2, "invalid request"},
		{"unknown profile", "", []string{"-p", "nope", "get"}, 2, `"nope"`},
		{"unknown format", "", []string{"get", "--format", "xml"}, 2, "xml"},
		{"argv secret refused", "", []string{"get", "hunter2"}, 2, "argv"},
		{"unknown command", "", []string{"frobnicate"}, 2, "frobnicate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Run(tc.stdin, tc.args...)
			if r.Exit != tc.exit || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("exit %d stderr %q", r.Exit, r.Stderr)
			}
			if strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", r.Stderr)
			}
		})
	}
	// An unknown config key exits 2 and names the key and line.
	cfg, _ := os.ReadFile(e.ConfigPath)
	os.WriteFile(e.ConfigPath, append(cfg, []byte("colour = \"blue\"\n")...), 0o600)
	r := e.Run("", "get")
	if r.Exit != 2 || !strings.Contains(r.Stderr, "colour") || !strings.Contains(r.Stderr, "line") {
		t.Errorf("unknown key: exit %d %q", r.Exit, r.Stderr)
	}
	if a := decode(t, r); a.Error == nil || a.Error.ExitCode != 2 || a.Error.Code == "" {
		t.Errorf("JSON error answer %+v", a)
	}
}

func TestWrongPasswordExit3NoSecret(t *testing.T) {
	e, em := vb365Env(t, nil)
	e.Vars["VB365_PASSWORD"] = "wrong-Password-77"
	r := e.Run("", "get")
	if r.Exit != 3 {
		t.Fatalf("exit %d %q", r.Exit, r.Stderr)
	}
	if strings.Count(r.Stderr, "\n") != 1 || strings.Contains(r.Stderr+r.Stdout, "wrong-Password-77") || strings.Contains(r.Stderr+r.Stdout, "STACKTRACE-MARKER") {
		t.Errorf("stderr %q stdout %q", r.Stderr, r.Stdout)
	}
	if a := decode(t, r); a.Error == nil || a.Error.Code != "invalid_credentials" || a.Error.ExitCode != 3 {
		t.Errorf("answer %+v", a)
	}
	if em.Counts().TokenCalls != 1 {
		t.Errorf("a rejected grant was retried: %d calls", em.Counts().TokenCalls)
	}
}

func TestStatusShowsNoSecret(t *testing.T) {
	e, em := vb365Env(t, nil)
	a := decode(t, e.Run("", "get"))
	for _, args := range [][]string{{"status"}, {"status", "--json"}} {
		r := e.Run("", args...)
		mustOK(t, r)
		if !strings.Contains(r.Stdout, "m365") {
			t.Errorf("%v: %s", args, r.Stdout)
		}
		testenv.NoSecrets(t, "status", r.Stdout+r.Stderr, em, a.AccessToken, m365Password)
	}
	var st []map[string]any
	json.Unmarshal([]byte(e.Run("", "status", "--json").Stdout), &st)
	if len(st) != 1 || st[0]["refresh_token_present"] != true || st[0]["access_token_valid"] != true || st[0]["cache_backend"] != "file" {
		t.Errorf("status --json = %v", st)
	}
}

// login reads the password from stdin without echoing it; the stored
// password then serves `get` (login's rules are tested in package helper).
func TestLoginPasswordStdin(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	if r := e.Run("bad-pw\n", "login", "--password-stdin"); r.Exit != 3 {
		t.Errorf("wrong login: exit %d", r.Exit)
	}
	r := e.Run(m365Password+"\n", "login", "--password-stdin")
	mustOK(t, r)
	testenv.NoSecrets(t, "login output", r.Stdout+r.Stderr, em, m365Password)
	mustOK(t, e.Run("", "logout"))
	if a := decode(t, e.Run("", "get")); a.Source != "grant" || !em.Valid(a.AccessToken) {
		t.Errorf("get with the stored password: %+v", a)
	}
}

func TestAuthCode(t *testing.T) {
	e, em := vb365Env(t, nil)
	r := e.Run("", "auth-code")
	mustOK(t, r)
	code := strings.TrimSpace(r.Stdout)
	if code == "" || strings.Contains(code, " ") || em.Counts().AuthCodes != 1 {
		t.Errorf("auth-code %q counts %+v", r.Stdout, em.Counts())
	}
}

func TestDemo(t *testing.T) {
	e := newHome(t)
	r := e.Run("", "demo")
	mustOK(t, r)
	for _, want := range []string{"source=grant", "source=cache", "source=refresh", "--format curl", "VEEAM_ACCESS_TOKEN=", "Mfa", "veeam-credential-helper init"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestVersion(t *testing.T) {
	r := newHome(t).Run("", "version")
	mustOK(t, r)
	if !strings.HasPrefix(r.Stdout, "veeam-credential-helper ") || !strings.Contains(r.Stdout, "go1.") {
		t.Errorf("version %q", r.Stdout)
	}
}

func TestGitEraseOfStaleTokenKeepsRenewedOne(t *testing.T) {
	e, em := vb365Env(t, nil)
	host := gitHost(em)
	old := decode(t, e.Run("", "get")).AccessToken
	renewed := decode(t, e.Run("", "get", "--force-refresh")).AccessToken
	// A second git process erases the token it was given before the renewal.
	mustOK(t, e.Run("protocol=https\nhost="+host+"\nusername="+m365User+"\npassword="+old+"\n\n", "git", "erase"))
	if a := decode(t, e.Run("", "get")); a.Source != "cache" || a.AccessToken != renewed {
		t.Errorf("stale erase dropped the renewed token: %+v", a)
	}
	// Erasing the current token makes the next get refresh.
	mustOK(t, e.Run("protocol=https\nhost="+host+"\nusername="+m365User+"\npassword="+renewed+"\n\n", "git", "erase"))
	if a := decode(t, e.Run("", "get")); a.Source != "refresh" {
		t.Errorf("after erase: %+v", a)
	}
	if em.Counts().RefreshReuse != 0 {
		t.Error("refresh token reused")
	}
}

// -h/--help: usage on stdout, exit 0 (so `--help | less` works); a flag
// mistake: one line on stderr naming the flag, exit 2, nothing on stdout.
func TestHelpAndFlagMistakes(t *testing.T) {
	e, _ := vb365Env(t, nil)
	for _, tc := range []struct {
		args       []string
		exit       int
		stdoutHas  string
		stderrLine string
	}{
		{[]string{"--help"}, 0, "Commands:", ""},
		{[]string{"-h"}, 0, "Exit codes:", ""},
		{[]string{"get", "--help"}, 0, "--min-valid DUR", ""},
		{[]string{"git", "-h"}, 0, "Usage: veeam-credential-helper git get|store|erase", ""},
		{[]string{"--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"get", "--bogus"}, 2, "", "get: flag provided but not defined: -bogus"},
		{[]string{"get", "--min-valid", "soon"}, 2, "", `invalid value "soon" for flag -min-valid`},
	} {
		r := e.Run("", tc.args...)
		if r.Exit != tc.exit {
			t.Errorf("%v: exit %d, want %d (%+v)", tc.args, r.Exit, tc.exit, r)
			continue
		}
		if tc.exit == 0 && (!strings.Contains(r.Stdout, tc.stdoutHas) || r.Stderr != "") {
			t.Errorf("%v: stdout %q stderr %q", tc.args, r.Stdout, r.Stderr)
		}
		if tc.exit != 0 && (r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, tc.stderrLine)) {
			t.Errorf("%v: stdout %q stderr %q", tc.args, r.Stdout, r.Stderr)
		}
	}
}

// What the binary makes of a static VSPC API key (its flow is tested in
// package helper): an answer without expires_at in every format, and a
// status that says what it is without showing it.
func TestVSPCAPIKeyAnswer(t *testing.T) {
	e := newHome(t)
	em := e.Emulator(emulator.Options{Product: "vspc"})
	em.AddAPIKey("portal-admin", "vspc-apikey-one-1111")
	e.Vars["VSPC_KEY"] = "vspc-apikey-one-1111"
	p := e.ProfileOf("key", "vspc")
	p.Grant, p.APIKeyEnv = "api-key", "VSPC_KEY"
	e.Profiles(p)
	r := e.Run("", "get")
	mustOK(t, r)
	if strings.Contains(r.Stdout, "expires_at") {
		t.Errorf("an API key answer carries an expiry: %s", r.Stdout)
	}
	if a := decode(t, r); a.AccessToken != "vspc-apikey-one-1111" || a.TokenType != "Bearer" || a.Source != "grant" {
		t.Fatalf("api key answer %+v", a)
	}
	r = e.Run("", "get", "--format", "env")
	if r.Exit != 0 || r.Stdout != "VEEAM_ACCESS_TOKEN=vspc-apikey-one-1111\nVEEAM_TOKEN_EXPIRES_AT=''\n" {
		t.Errorf("env format: exit %d %q", r.Exit, r.Stdout)
	}
	if st := e.Run("", "status"); !strings.Contains(st.Stdout, "static API key") || strings.Contains(st.Stdout, "vspc-apikey") {
		t.Errorf("status %q", st.Stdout)
	}
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

// Without a terminal a missing secret is exit 5 at once, never a prompt:
// stdin is not a terminal, whatever kubectl says.
func TestNoTerminalNoSecretExit5(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	r := e.Run(`{"profile":"m365"}`, "get")
	if r.Exit != 5 || !strings.Contains(r.Stderr, "password_env") || !strings.Contains(r.Stderr, "login") {
		t.Errorf("get: exit %d %q", r.Exit, r.Stderr)
	}
	e.Vars["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`
	r = e.Run("", "exec-credential")
	delete(e.Vars, "KUBERNETES_EXEC_INFO")
	if r.Exit != 5 || r.Stdout != "" || !strings.Contains(r.Stderr, "password_env") {
		t.Errorf("exec-credential, interactive, no terminal: exit %d %q", r.Exit, r.Stderr)
	}
	// login without --password-stdin and without a terminal.
	r = e.Run("", "login")
	if r.Exit != 5 || !strings.Contains(r.Stderr, "--password-stdin") {
		t.Errorf("login without a terminal: exit %d %q", r.Exit, r.Stderr)
	}
	if n := em.Counts(); n.TokenCalls != 0 {
		t.Errorf("the server was called %d times without a password", n.TokenCalls)
	}
}

// `get` in a `while read` loop reads the loop's input as its request: the
// error says how to leave stdin alone.
func TestStdinNotJSONMentionsNoStdin(t *testing.T) {
	e, em := vb365Env(t, nil)
	r := e.Run("host-1\nhost-2\n", "get", "--format", "token")
	if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "--no-stdin") || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	if n := em.Counts().TokenCalls; n != 0 {
		t.Errorf("%d token calls", n)
	}
}

// status: the default marker, relative times, -p with a name or a glob,
// and a cache it cannot read shown in the error column with exit 6.
func TestStatusFilterDefaultAndCacheErrors(t *testing.T) {
	e, _ := vb365Env(t, nil)
	other := testenv.Profile{Name: "other", Product: "vbr", URL: "https://127.0.0.1:1", Username: "x", PasswordEnv: "NONE"}
	e.Write(testenv.Config{DefaultProfile: "m365", Profiles: []testenv.Profile{other, e.Config.Profiles[0]}})
	mustOK(t, e.Run("", "get", "--no-stdin"))

	r := e.Run("", "status")
	mustOK(t, r)
	if !strings.Contains(r.Stdout, "m365 (default)") || !strings.Contains(r.Stdout, "valid 59m (until ") || !strings.Contains(r.Stdout, "SECRET STORED") {
		t.Errorf("status:\n%s", r.Stdout)
	}
	r = e.Run("", "status", "-p", "oth*", "--json")
	mustOK(t, r)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil || len(rows) != 1 || rows[0]["profile"] != "other" ||
		rows[0]["access_token_valid_until"] != nil || rows[0]["default"] != false {
		t.Errorf("-p oth* --json: %v %s", err, r.Stdout)
	}
	if r = e.Run("", "status", "-p", "nope"); r.Exit != 2 || !strings.Contains(r.Stderr, `unknown profile "nope"`) || r.Stdout != "" {
		t.Errorf("-p nope: %+v", r)
	}

	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = "not-the-passphrase-93"
	r = e.Run("", "status", "-p", "m365")
	if r.Exit != 6 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "ERROR column") {
		t.Fatalf("wrong passphrase: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "passphrase") || !strings.Contains(lines[1], " none ") {
		t.Errorf("wrong passphrase, table:\n%s", r.Stdout)
	}
	r = e.Run("", "status", "--json")
	if r.Exit != 6 || json.Unmarshal([]byte(r.Stdout), &rows) != nil || len(rows) != 2 || rows[0]["error"] == nil {
		t.Errorf("wrong passphrase, --json: %+v", r)
	}
	assertOneLineNoLeak(t, r, "not-the-passphrase-93")
}
