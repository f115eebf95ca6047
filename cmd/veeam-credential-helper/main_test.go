package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	m365User     = `corp\svc-backup`
	m365Password = "pw-M365-secret-0001"
)

type answer struct {
	Profile     string    `json:"profile"`
	Product     string    `json:"product"`
	URL         string    `json:"url"`
	Username    string    `json:"username"`
	TokenType   string    `json:"token_type"`
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	Source      string    `json:"source"`
	Error       *struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		ExitCode int    `json:"exit_code"`
	} `json:"error"`
}

func decode(t *testing.T, r testenv.Result) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal([]byte(r.Stdout), &a); err != nil {
		t.Fatalf("stdout is not a JSON answer: %v\nstdout=%q\nstderr=%q", err, r.Stdout, r.Stderr)
	}
	return a
}

// vb365Env is a home with one vb365 profile whose password comes from the environment.
func vb365Env(t *testing.T, set func(*testenv.Profile)) (*testenv.Env, *emulator.Emulator) {
	e := testenv.New(t)
	em := e.M365Profile(emulator.Options{}, m365User, m365Password, "VB365_PASSWORD", func(p *testenv.Profile) {
		p.RefreshBefore = "10s"
		if set != nil {
			set(p)
		}
	})
	return e, em
}

func mustOK(t *testing.T, r testenv.Result) {
	t.Helper()
	if r.Exit != 0 {
		t.Fatalf("exit %d\nstdout=%s\nstderr=%s", r.Exit, r.Stdout, r.Stderr)
	}
}

// The JSON request's secrets reach the engine: a password, an assertion,
// an MFA code; a wrong one is exit 3 and never echoed.
func TestJSONRequestSecrets(t *testing.T) {
	e := testenv.New(t)
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
	e := testenv.New(t)
	r := e.Run("", "demo")
	mustOK(t, r)
	for _, want := range []string{"source=grant", "source=cache", "source=refresh", "--format curl", "VEEAM_ACCESS_TOKEN=", "Mfa"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestVersion(t *testing.T) {
	r := testenv.New(t).Run("", "version")
	mustOK(t, r)
	if !strings.HasPrefix(r.Stdout, "veeam-credential-helper ") || !strings.Contains(r.Stdout, "go1.") {
		t.Errorf("version %q", r.Stdout)
	}
}

func TestGitEraseOfStaleTokenKeepsRenewedOne(t *testing.T) {
	e, em := vb365Env(t, nil)
	host := gitHost(t, em)
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
