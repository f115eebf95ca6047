package helper_test

// Where secrets come from (in the documented order), login and logout, and
// that no secret ever reaches an error, a warning or a debug line.

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// The documented order: the JSON request, password_env, password_file,
// password_command, the keyring entry stored by login, a terminal prompt.
// Each step takes the first source away and sees which password was sent.
func TestSecretSourcesOrder(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	em.AddUser("order-user", "from-keyring")
	p := x.ProfileOf("m365", "vb365")
	p.Username = "order-user"
	if _, err := x.use(p).Login(t.Context(), "m365", "from-keyring"); err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Setenv("VCH_ORDER_PASSWORD", "from-env")
	p.PasswordEnv = "VCH_ORDER_PASSWORD"
	p.PasswordFile = x.file("order.pw", "from-file\n")
	p.PasswordCommand = []string{"printf", "%s", "from-command"}
	x.use(p)
	sent := func(r helper.Request) string {
		t.Helper()
		x.logout("m365")
		x.do(r)
		return em.LastForm().Get("password")
	}
	if got := sent(helper.Request{Profile: "m365", Password: "from-request"}); got != "from-request" {
		t.Errorf("with every source: %q sent, want the request's", got)
	}
	if got := sent(m365); got != "from-env" {
		t.Errorf("without a request: %q sent, want password_env's", got)
	}
	t.Setenv("VCH_ORDER_PASSWORD", "")
	if got := sent(m365); got != "from-file" {
		t.Errorf("with an empty variable: %q sent, want password_file's", got)
	}
	x.file("order.pw", "\n")
	if got := sent(m365); got != "from-command" {
		t.Errorf("with an empty file: %q sent, want password_command's", got)
	}
	p.PasswordEnv, p.PasswordFile, p.PasswordCommand = "", "", nil
	x.use(p)
	if got := sent(m365); got != "from-keyring" || em.Counts().Grants["password"] != 2 {
		t.Errorf("without configured sources: %q sent, want the keyring's", got)
	}
	if err := x.h.Logout(t.Context(), "m365", true); err != nil {
		t.Fatal(err)
	}
	var label string
	x.h.Prompt = func(l string) (string, error) { label = l; return "from-prompt", nil }
	if got := sent(m365); got != "from-prompt" || !strings.Contains(label, "order-user") || !strings.Contains(label, em.URL()) {
		t.Errorf("after login's secret is forgotten: %q sent, prompt %q", got, label)
	}
	x.h.Prompt = nil
	msg := x.fail(m365, exitcode.Interaction)
	for _, want := range []string{`"password"`, "password_env", "password_file", "password_command", "login -p m365"} {
		if !strings.Contains(msg, want) {
			t.Errorf("no secret and no terminal: %q does not name %s", msg, want)
		}
	}
	x.h.Prompt = func(string) (string, error) { return "", errors.New("no tty") }
	x.fail(m365, exitcode.Interaction)
}

// A user's secret command runs without a shell; its stderr and output are
// never shown (they may hold the secret), its failure is one line.
func TestSecretCommandFailures(t *testing.T) {
	const leaked = "cmd-PW-Secret-5"
	for _, tc := range []struct {
		name    string
		command []string
		exit    int
		says    string
	}{
		{"fails", []string{"sh", "-c", "echo " + leaked + " >&2; echo " + leaked + "; exit 3"}, exitcode.Interaction, "password_command failed (exit status 3)"},
		{"prints nothing", []string{"true"}, exitcode.Interaction, "password_command printed nothing"},
		{"not found", []string{"/nonexistent/vch-password"}, exitcode.Usage, "password_command"},
		{"outlives the timeout", []string{"sleep", "10"}, exitcode.Unreachable, "did not finish within timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x, em := m365Home(t, emulator.Options{}, func(p *testenv.Profile) {
				p.PasswordFile, p.PasswordCommand, p.Timeout = "", tc.command, "1s"
			})
			msg := x.fail(m365, tc.exit)
			if !strings.Contains(msg, tc.says) {
				t.Errorf("message %q does not say %q", msg, tc.says)
			}
			noLeak(t, "error and stderr", msg+x.stderr.String(), em, leaked)
			if n := em.Counts().TokenCalls; n != 0 {
				t.Errorf("%d token calls without a password", n)
			}
		})
	}
}

func TestLiteralPasswordInConfigRefused(t *testing.T) {
	x := newHome(t)
	x.Profiles(testenv.Profile{Name: "m365", Product: "vb365", URL: "https://vb365.example.com:4443", Username: "svc",
		Extra: `password = "literal-Secret-PW-445"`})
	_, err := config.Load(x.ConfigPath)
	if exitOf(err) != exitcode.Usage {
		t.Fatalf("a literal password: %v", err)
	}
	for _, want := range []string{"password_env", "password_file", "password_command", "login"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not name %s: %q", want, err)
		}
	}
	noLeak(t, "error", err.Error(), nil, "literal-Secret-PW-445")
}

// login stores the secret only once the grant accepted it; the stored
// secret runs later grants until logout forgets it.
func TestLoginStoresSecretOnlyWhenAccepted(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, func(p *testenv.Profile) { p.PasswordFile = "" })
	if msg := x.fail(m365, exitcode.Interaction); !strings.Contains(msg, "login") {
		t.Fatalf("no secret: %q", msg)
	}
	if _, err := x.h.Login(t.Context(), "m365", "bad-pw-Login-1"); exitOf(err) != exitcode.Rejected {
		t.Fatalf("wrong login: %v", err)
	}
	if s := x.status("m365"); s.SecretStored {
		t.Fatal("a rejected password was stored")
	}
	if _, err := x.h.Login(t.Context(), "m365", ""); exitOf(err) != exitcode.Interaction {
		t.Errorf("empty secret: %v", err)
	}
	res, err := x.h.Login(t.Context(), "m365", m365Password)
	if err != nil || res.Source != helper.SourceGrant || !em.Valid(token(res)) {
		t.Fatalf("login: %v", err)
	}
	x.mustGet(m365, helper.SourceCache) // login's grant is cached
	x.logout("m365")
	x.mustGet(m365, helper.SourceGrant) // with the stored password
	if err := x.h.Logout(t.Context(), "m365", true); err != nil {
		t.Fatal(err)
	}
	x.fail(m365, exitcode.Interaction)
	if s := x.status("m365"); s.SecretStored || s.Valid {
		t.Errorf("status after logout --forget-password: %+v", s)
	}
	noLeak(t, "stderr", x.stderr.String(), em, m365Password, "bad-pw-Login-1")
}

// logout ends the server session; when the server cannot be reached the
// cached tokens are deleted anyway, with a warning.
func TestLogout(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	r := x.mustGet(m365, helper.SourceGrant)
	x.logout("m365")
	if em.Valid(token(r)) || em.Counts().Logouts != 1 {
		t.Errorf("server session not ended: %+v", em.Counts())
	}
	if s := x.status("m365"); s.Valid || s.RefreshTokenPresent {
		t.Errorf("status after logout: %+v", s)
	}
	x.mustGet(m365, helper.SourceGrant)
	x.logout("m365") // twice, or with nothing cached, is fine
	x.logout("m365")

	x.mustGet(m365, helper.SourceGrant)
	em.Close()
	x.logout("m365")
	warn := x.stderr.Take()
	if strings.Count(warn, "\n") != 1 || !strings.Contains(warn, "server logout failed") {
		t.Errorf("stderr %q, want one warning", warn)
	}
	noLeak(t, "warning", warn, em, m365Password)
	if s := x.status("m365"); s.Valid || s.RefreshTokenPresent {
		t.Errorf("status after an unreachable logout: %+v", s)
	}
	if err := x.h.Logout(t.Context(), "nope", false); exitOf(err) != exitcode.Usage {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestStatusesHoldNoSecret(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	r := x.mustGet(m365, helper.SourceGrant)
	all, err := x.h.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(all)
	noLeak(t, "statuses", string(b), em, token(r), m365Password, testenv.Passphrase)
	if s := all[0]; len(all) != 1 || s.Profile != "m365" || !s.Valid || !s.RefreshTokenPresent || s.Backend != "file" || s.Username != m365User {
		t.Errorf("statuses %s", b)
	}
}

// Every failure and warning of the flow, with debug lines on: no password,
// assertion, MFA code, passphrase, token or server stack trace in the
// error or on stderr.
func TestSecretsNeverInErrorsOrStderr(t *testing.T) {
	const (
		wrongPassword  = "wrong-PW-Secret-1"
		assertion      = "jwt-ASSERTION-Secret-2"
		wrongAssertion = "wrong-ASSERTION-Secret-3"
		wrongMFACode   = "999111"
		commandSecret  = "cmd-PW-Secret-5"
		wrongPassphr   = "wrong-PASSPHRASE-Secret-6"
	)
	x := newHome(t)
	m := x.server(emulator.ProductVB365, emulator.Options{})
	m.AddUser(m365User, m365Password)
	m.AddJWTClient("app-1", assertion)
	az := x.server(emulator.ProductVBAzure, emulator.Options{})
	az.AddMFAUser("mfa-admin", azurePassword, azureMFACode)
	app := x.ProfileOf("app", "vb365")
	app.Grant, app.ClientID, app.AssertionFile = "jwt-bearer", "app-1", x.file("app.jwt", assertion)
	cmd := x.ProfileOf("cmd", "vb365")
	cmd.Username, cmd.PasswordCommand = m365User, []string{"sh", "-c", "echo " + commandSecret + " >&2; echo " + commandSecret + "; exit 3"}
	cfg := testenv.Config{Profiles: []testenv.Profile{x.user("m365", "vb365", m365User, m365Password), app, cmd,
		x.user("mfa", "vbazure", "mfa-admin", azurePassword)}}
	x.write(cfg)
	secrets := []string{m365Password, wrongPassword, assertion, wrongAssertion, azurePassword, azureMFACode, wrongMFACode,
		commandSecret, wrongPassphr, testenv.Passphrase, emulator.StackTraceMarker}
	secrets = append(append(secrets, m.TokenPrefixes()...), az.TokenPrefixes()...)

	logout := func(p string) func() { return func() { x.logout(p) } }
	get := func(p string) func() { return func() { x.get(p) } }
	type scenario struct {
		name  string
		setup func()
		req   helper.Request
		fails bool
	}
	scenarios := []scenario{
		{"grant", nil, m365, false},
		{"refresh", nil, force, false},
		{"retried 503", func() { m.FailNext(1, 503, 0) }, force, false},
		{"revoked refresh falls back", m.RevokeRefreshTokens, force, false},
		{"refresh answered 500", func() { m.FailNext(1, 500, 0); x.later(2 * time.Minute) }, stale, false}, // warns, answers the cached token
		{"wrong password", logout("m365"), helper.Request{Profile: "m365", Password: wrongPassword}, true},
		{"jwt grant", nil, helper.Request{Profile: "app"}, false},
		{"wrong assertion", logout("app"), helper.Request{Profile: "app", Assertion: wrongAssertion}, true},
		{"no MFA code", nil, helper.Request{Profile: "mfa"}, true},
		{"wrong MFA code", nil, helper.Request{Profile: "mfa", MFACode: wrongMFACode}, true},
		{"MFA grant", nil, helper.Request{Profile: "mfa", MFACode: azureMFACode}, false},
		{"MFA refresh", nil, helper.Request{Profile: "mfa", ForceRefresh: true}, false},
		{"truncated token answer", func() { x.logout("m365"); m.GarbageNext(1, emulator.GarbageTruncated) }, m365, true},
		{"proxy HTML", func() { m.GarbageNext(1, emulator.GarbageHTML) }, m365, true},
		{"500 with stack trace", func() { m.FailNext(1, 500, 0) }, m365, true},
		{"vbazure 500 with stack trace", func() { x.logout("mfa"); az.FailNext(1, 500, 0) }, helper.Request{Profile: "mfa", MFACode: azureMFACode}, true},
		{"password command fails", nil, helper.Request{Profile: "cmd"}, true},
		{"wrong passphrase", func() {
			get("m365")()
			c := cfg
			c.Cache = testenv.Cache{Backend: "file", Dir: x.CacheDir, PassphraseEnv: "VCH_TEST_UNSET", PassphraseCommand: []string{"printf", wrongPassphr}}
			x.write(c)
		}, m365, true},
	}
	debugLines := 0
	for _, sc := range scenarios {
		x.write(cfg)
		x.h.Debug = true
		if sc.setup != nil {
			sc.setup()
		}
		x.stderr.Take()
		_, err := x.do(sc.req)
		if (err != nil) != sc.fails {
			t.Errorf("%s: error %v, want failure %v", sc.name, err, sc.fails)
		}
		out := x.stderr.Take()
		debugLines += strings.Count(out, "debug:")
		if err != nil {
			out += "\n" + err.Error()
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: stderr or error holds %q:\n%s", sc.name, s, out)
			}
		}
	}
	if debugLines < len(scenarios) {
		t.Errorf("%d debug lines in %d scenarios: the debug half proves little", debugLines, len(scenarios))
	}
	// Login with a wrong and a right password.
	for _, pw := range []string{wrongPassword, m365Password} {
		x.write(cfg)
		x.h.Debug = true
		_, err := x.h.Login(t.Context(), "m365", pw)
		out := x.stderr.Take()
		if err != nil {
			out += err.Error()
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("login: stderr or error holds %q:\n%s", s, out)
			}
		}
	}
}
