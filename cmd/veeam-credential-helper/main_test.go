package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

func TestGetGrantThenCache(t *testing.T) {
	e, em := vb365Env(t, nil)
	r1 := e.Run("", "get")
	mustOK(t, r1)
	a1 := decode(t, r1)
	if a1.Source != "grant" || a1.Profile != "m365" || a1.Product != "vb365" || a1.Username != m365User || a1.TokenType != "Bearer" {
		t.Errorf("first answer = %+v", a1)
	}
	if !em.Valid(a1.AccessToken) {
		t.Error("the server does not accept the token")
	}
	if time.Until(a1.ExpiresAt) < 50*time.Minute {
		t.Errorf("expires_at %v: the emulator's 1h expires_in was not trusted", a1.ExpiresAt)
	}
	r2 := e.Run("", "get")
	mustOK(t, r2)
	a2 := decode(t, r2)
	if a2.Source != "cache" || a2.AccessToken != a1.AccessToken {
		t.Errorf("second answer source=%s same=%v", a2.Source, a2.AccessToken == a1.AccessToken)
	}
	if n := em.Counts(); n.Grants["password"] != 1 || n.TokenCalls != 1 {
		t.Errorf("server saw %+v, want one password grant", n)
	}
	if f := em.LastForm(); f.Get("disable_antiforgery_token") != "true" {
		t.Errorf("grant form lacks disable_antiforgery_token=true: %v", f.Get("disable_antiforgery_token"))
	}
}

func TestMinValidRefreshes(t *testing.T) {
	e, em := vb365Env(t, nil)
	a1 := decode(t, e.Run("", "get"))
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		r := e.Run("", "get", "--min-valid", "2h")
		mustOK(t, r)
		a := decode(t, r)
		if a.Source != "refresh" || a.AccessToken == a1.AccessToken || seen[a.AccessToken] {
			t.Fatalf("refresh %d: %+v", i, a)
		}
		seen[a.AccessToken] = true
		if !em.Valid(a.AccessToken) {
			t.Fatal("refreshed token not accepted")
		}
	}
	n := em.Counts()
	if n.RefreshReuse != 0 || n.Grants["refresh_token"] != 3 || n.Grants["password"] != 1 {
		t.Errorf("server counts %+v", n)
	}
	// min_valid_seconds in the JSON request does the same.
	a := decode(t, e.Run(`{"min_valid_seconds": 7200}`, "get"))
	if a.Source != "refresh" {
		t.Errorf("JSON min_valid_seconds: source %s", a.Source)
	}
}

func TestForceRefresh(t *testing.T) {
	e, em := vb365Env(t, nil)
	a1 := decode(t, e.Run("", "get"))
	a2 := decode(t, e.Run("", "get", "--force-refresh"))
	a3 := decode(t, e.Run(`{"force_refresh":true}`, "get"))
	if a2.Source != "refresh" || a3.Source != "refresh" || a2.AccessToken == a1.AccessToken || a3.AccessToken == a2.AccessToken {
		t.Errorf("force refresh: %s %s", a2.Source, a3.Source)
	}
	if em.Counts().RefreshReuse != 0 {
		t.Error("refresh token reused")
	}
}

func TestAntiforgerySessionRefreshes(t *testing.T) {
	e, em := vb365Env(t, func(p *testenv.Profile) { no := false; p.DisableAntiforgeryToken = &no })
	mustOK(t, e.Run("", "get"))
	if f := em.LastForm(); f.Get("disable_antiforgery_token") == "true" {
		t.Fatal("antiforgery was disabled")
	}
	for i := 0; i < 2; i++ {
		r := e.Run("", "get", "--force-refresh")
		mustOK(t, r)
		if a := decode(t, r); a.Source != "refresh" {
			t.Fatalf("source %s", a.Source)
		}
	}
	n := em.Counts()
	if n.AntiforgeryRejects != 0 || n.Grants["refresh_token"] != 2 || n.Grants["password"] != 1 {
		t.Errorf("counts %+v", n)
	}
}

func TestRejectedRefreshFallsBackToGrant(t *testing.T) {
	e, em := vb365Env(t, nil)
	a1 := decode(t, e.Run("", "get"))
	em.RevokeRefreshTokens()
	r := e.Run("", "get", "--force-refresh")
	mustOK(t, r)
	a := decode(t, r)
	if a.Source != "grant" || a.AccessToken == a1.AccessToken || !em.Valid(a.AccessToken) {
		t.Errorf("answer %+v", a)
	}
	if n := em.Counts(); n.Grants["password"] != 2 {
		t.Errorf("counts %+v", n)
	}
	// The new session refreshes normally: the dead refresh token was dropped.
	a3 := decode(t, e.Run("", "get", "--force-refresh"))
	if a3.Source != "refresh" || em.Counts().RefreshReuse != 0 {
		t.Errorf("after fallback: %+v %+v", a3, em.Counts())
	}
}

func TestJWTBearerAndOperator(t *testing.T) {
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vb365"})
	em.AddJWTClient("app-1", "jwt-assertion-secret-A")
	em.AddOperator("user-7.tenant-9", "operator-assertion-secret-B")
	e.Vars["JWT_ASSERTION"] = "jwt-assertion-secret-A"
	af := filepath.Join(e.Dir, "operator.jwt")
	if err := os.WriteFile(af, []byte("operator-assertion-secret-B\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.WriteConfig(fmt.Sprintf(`[profiles.app]
product = "vb365"
url = %[1]q
grant = "jwt-bearer"
client_id = "app-1"
assertion_env = "JWT_ASSERTION"
ca_file = %[2]q

[profiles.op]
product = "vb365"
url = %[1]q
grant = "operator"
client_id = "user-7.tenant-9"
assertion_file = %[3]q
ca_file = %[2]q
`, em.URL(), e.CAFile("vb365"), af))
	for p, id := range map[string]string{"app": "app-1", "op": "user-7.tenant-9"} {
		r := e.Run("", "-p", p, "get")
		mustOK(t, r)
		// The answer names the identity: the client_id when there is no username.
		if a := decode(t, r); a.Source != "grant" || !em.Valid(a.AccessToken) || a.Username != id {
			t.Errorf("%s: %+v", p, a)
		}
	}
	n := em.Counts()
	if n.Grants["urn:ietf:params:oauth:grant-type:jwt-bearer"] != 1 || n.Grants["operator"] != 1 {
		t.Errorf("counts %+v", n)
	}
	// A wrong assertion in the request is rejected with exit 3, unechoed.
	mustOK(t, e.Run("", "-p", "app", "logout"))
	r := e.Run(`{"assertion":"wrong-assertion-XYZ"}`, "-p", "app", "get")
	if r.Exit != 3 || strings.Contains(r.Stderr+r.Stdout, "wrong-assertion-XYZ") {
		t.Fatalf("wrong assertion: exit %d %q", r.Exit, r.Stderr)
	}
}

func azureEnv(t *testing.T, apiVersion string) (*testenv.Env, *emulator.Emulator) {
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vbazure", RequireAPIVersion: apiVersion})
	em.AddUser("azure-admin", "pw-Azure-1")
	em.AddMFAUser("mfa-admin", "pw-Azure-2", "424242")
	e.Vars["AZ_PASSWORD"] = "pw-Azure-1"
	e.Vars["AZ_MFA_PASSWORD"] = "pw-Azure-2"
	api := ""
	if apiVersion != "" {
		api = fmt.Sprintf("api_version = %q\n", apiVersion)
	}
	e.WriteConfig(fmt.Sprintf(`default_profile = "azure"

[profiles.azure]
product = "vbazure"
url = %[1]q
username = "azure-admin"
password_env = "AZ_PASSWORD"
ca_file = %[2]q
%[3]s
[profiles.mfa]
product = "vbazure"
url = %[1]q
username = "mfa-admin"
password_env = "AZ_MFA_PASSWORD"
mfa_code_command = ["sh", "-c", "echo 424242"]
ca_file = %[2]q
%[3]s`, em.URL(), e.CAFile("vbazure"), api))
	return e, em
}

func TestAzurePasswordMFAAndRefresh(t *testing.T) {
	e, em := azureEnv(t, "")
	a := decode(t, e.Run("", "get"))
	if a.Source != "grant" || !em.Valid(a.AccessToken) {
		t.Fatalf("password grant: %+v %+v", a, a.Error)
	}
	m := decode(t, e.Run("", "-p", "mfa", "get"))
	if m.Source != "grant" || !em.Valid(m.AccessToken) {
		t.Fatalf("mfa grant: %+v", m)
	}
	rf := decode(t, e.Run("", "-p", "mfa", "get", "--min-valid", "3h"))
	if rf.Source != "refresh" || !em.Valid(rf.AccessToken) || rf.AccessToken == m.AccessToken {
		t.Fatalf("refresh: %+v", rf)
	}
	n := em.Counts()
	if n.Grants["Password"] != 2 || n.Grants["Mfa"] != 1 || n.Grants["Refresh_token"] != 1 || n.RefreshReuse != 0 {
		t.Errorf("counts %+v", n)
	}
}

func TestAzureAPIVersionAndMFAFromRequest(t *testing.T) {
	e, em := azureEnv(t, "v7")
	e.WriteConfig(fmt.Sprintf(`[profiles.mfa]
product = "vbazure"
url = %q
username = "mfa-admin"
password_env = "AZ_MFA_PASSWORD"
api_version = "v7"
ca_file = %q
`, em.URL(), e.CAFile("vbazure")))
	// No code source and no terminal: exit 5 naming the ways to give it.
	r := e.Run("", "get")
	if r.Exit != 5 || !strings.Contains(r.Stderr, "mfa_code") {
		t.Fatalf("no MFA code: exit %d %q", r.Exit, r.Stderr)
	}
	r = e.Run(`{"mfa_code":"424242"}`, "get")
	mustOK(t, r)
	if a := decode(t, r); !em.Valid(a.AccessToken) {
		t.Error("token not accepted")
	}
	// A wrong code is exit 3 and the code is not echoed.
	e.Run("", "logout")
	r = e.Run(`{"mfa_code":"999111"}`, "get")
	if r.Exit != 3 || strings.Contains(r.Stderr+r.Stdout, "999111") {
		t.Errorf("wrong code: exit %d stderr %q", r.Exit, r.Stderr)
	}
}

func TestPasswordFromJSONRequest(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	r := e.Run(`{"profile":"m365","password":"`+m365Password+`"}`, "get")
	mustOK(t, r)
	if a := decode(t, r); a.Source != "grant" || !em.Valid(a.AccessToken) {
		t.Errorf("%+v", a)
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

func TestFileBackendHoldsNoPlaintextAndStatusNoSecret(t *testing.T) {
	e, _ := vb365Env(t, nil)
	a := decode(t, e.Run("", "get"))
	found := 0
	filepath.Walk(e.CacheDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		found++
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), a.AccessToken) || strings.Contains(string(b), "vb365-rt-") || strings.Contains(string(b), m365Password) {
			t.Errorf("%s holds a token in plaintext", path)
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode %v", path, info.Mode())
		}
		return nil
	})
	if found == 0 {
		t.Fatal("no cache file written")
	}
	for _, args := range [][]string{{"status"}, {"status", "--json"}} {
		r := e.Run("", args...)
		mustOK(t, r)
		if strings.Contains(r.Stdout+r.Stderr, a.AccessToken) || strings.Contains(r.Stdout+r.Stderr, "vb365-rt-") || !strings.Contains(r.Stdout, "m365") {
			t.Errorf("%v: %s", args, r.Stdout)
		}
	}
	var st []map[string]any
	json.Unmarshal([]byte(e.Run("", "status", "--json").Stdout), &st)
	if len(st) != 1 || st[0]["refresh_token_present"] != true || st[0]["access_token_valid"] != true || st[0]["cache_backend"] != "file" {
		t.Errorf("status --json = %v", st)
	}
}

func TestLogoutRevokesAndNextGetGrants(t *testing.T) {
	e, em := vb365Env(t, nil)
	a := decode(t, e.Run("", "get"))
	mustOK(t, e.Run("", "logout"))
	if em.Valid(a.AccessToken) || em.Counts().Logouts != 1 {
		t.Errorf("server session not revoked: %+v", em.Counts())
	}
	b := decode(t, e.Run("", "get"))
	if b.Source != "grant" || b.AccessToken == a.AccessToken {
		t.Errorf("after logout: %+v", b)
	}
}

func TestLoginStoresPassword(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	r := e.Run("", "get")
	if r.Exit != 5 || !strings.Contains(r.Stderr, "password_env") || !strings.Contains(r.Stderr, "login") {
		t.Fatalf("no secret: exit %d %q", r.Exit, r.Stderr)
	}
	r = e.Run(m365Password+"\n", "login", "--password-stdin")
	mustOK(t, r)
	if strings.Contains(r.Stderr+r.Stdout, m365Password) {
		t.Error("login echoed the password")
	}
	mustOK(t, e.Run("", "logout"))
	// The stored password runs the next grant.
	a := decode(t, e.Run("", "get"))
	if a.Source != "grant" || !em.Valid(a.AccessToken) {
		t.Errorf("%+v", a)
	}
	mustOK(t, e.Run("", "logout", "--forget-password"))
	if r := e.Run("", "get"); r.Exit != 5 {
		t.Errorf("after --forget-password: exit %d", r.Exit)
	}
	// A wrong password is not stored.
	if r := e.Run("bad-pw\n", "login", "--password-stdin"); r.Exit != 3 {
		t.Errorf("wrong login: exit %d", r.Exit)
	}
	if r := e.Run("", "get"); r.Exit != 5 {
		t.Errorf("wrong password was stored: exit %d", r.Exit)
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

func TestNoPassphraseFailsBeforeGrant(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE")
	r := e.Run("", "get")
	if r.Exit != 6 || !strings.Contains(r.Stderr, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE") {
		t.Errorf("exit %d %q", r.Exit, r.Stderr)
	}
	if n := em.Counts().TokenCalls; n != 0 {
		t.Errorf("the server saw %d token calls before the cache failed", n)
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

func TestHugeMinValidRefreshesInsteadOfOverflowing(t *testing.T) {
	e, _ := vb365Env(t, nil)
	mustOK(t, e.Run("", "get"))
	// 2^62 seconds overflows a time.Duration: it must still mean "longer
	// than the token lives", so the helper renews.
	a := decode(t, e.Run(`{"min_valid_seconds": 4611686018427387904}`, "get"))
	if a.Source != "refresh" {
		t.Errorf("source %s, want refresh", a.Source)
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
