package goplugin_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/oauth2"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	m365User     = `corp\svc-backup`
	m365Password = "pw-M365-plugin-0001"
)

// home is a throwaway home with one vb365 profile "m365" on an emulator.
func home(t testing.TB, opts emulator.Options, set func(*testenv.Profile)) (*testenv.Env, *emulator.Emulator) {
	t.Helper()
	e := testenv.New(t)
	return e, e.M365Profile(opts, m365User, m365Password, "VB365_PASSWORD", set)
}

// launch starts the real binary as a plugin with the home's environment
// (VEEAM_CREDENTIAL_HELPER_CONFIG, the passphrase, the password) and
// nothing of the test process's.
func launch(t testing.TB, e *testenv.Env, args ...string) (*goplugin.Client, *testenv.Buffer) {
	t.Helper()
	log := &testenv.Buffer{}
	opts := goplugin.ClientOptions{
		Env:         e.Environ(),
		SkipHostEnv: true,
		Logger:      hclog.New(&hclog.LoggerOptions{Name: "host", Level: hclog.Trace, Output: log}),
	}
	if args != nil {
		opts.Args = args
	}
	c, err := goplugin.NewClient(testenv.Binary(t), opts)
	if err != nil {
		t.Fatalf("NewClient: %v\nlog:\n%s", err, log)
	}
	t.Cleanup(c.Close)
	return c, log
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPluginGetsTokenThenAnswersFromCache(t *testing.T) {
	e, em := home(t, emulator.Options{}, nil)
	c, log := launch(t, e, "--debug", "plugin")
	ctx := ctxT(t)

	cred, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
	if err != nil {
		t.Fatalf("GetCredential: %v\nlog:\n%s", err, log)
	}
	if cred.Source != "grant" || cred.Profile != "m365" || cred.Product != "vb365" || cred.URL != em.URL() ||
		cred.Username != m365User || cred.TokenType != "Bearer" || time.Until(cred.ExpiresAt) < 30*time.Minute {
		t.Fatalf("first credential: %v", cred)
	}
	if !em.Valid(cred.AccessToken) {
		t.Fatal("the emulator does not know the token")
	}
	if code := testenv.Protected(t, em, cred.AccessToken, ""); code != http.StatusOK {
		t.Fatalf("protected resource: %d", code)
	}

	again, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Source != "cache" || again.AccessToken != cred.AccessToken || !again.ExpiresAt.Equal(cred.ExpiresAt) {
		t.Fatalf("second credential: %v (same token: %v)", again, again.AccessToken == cred.AccessToken)
	}
	if n := em.Counts().Grants["password"]; n != 1 {
		t.Fatalf("password grants on the server: %d, want 1", n)
	}

	// The default profile (the only one) needs no name.
	if def, err := c.GetCredential(ctx, goplugin.Request{}); err != nil || def.Profile != "m365" || def.Source != "cache" {
		t.Fatalf("default profile: %v %v", def, err)
	}
	// A minimum validity beyond what the server's tokens live is met as far
	// as the server allows: the fresh token, not a refresh on every call.
	long, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365", MinValid: 2 * time.Hour})
	if err != nil || long.Source != "cache" {
		t.Fatalf("min valid 2h: %v %v", long, err)
	}
	// Invalidate keeps the refresh token: the next call refreshes.
	if err := c.Invalidate(ctx, "m365"); err != nil {
		t.Fatal(err)
	}
	ref, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
	if err != nil || ref.Source != "refresh" {
		t.Fatalf("after Invalidate: %v %v", ref, err)
	}
	if code := testenv.Protected(t, em, ref.AccessToken, ""); code != http.StatusOK {
		t.Fatalf("protected resource with the refreshed token: %d", code)
	}
	if f, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365", ForceRefresh: true}); err != nil || f.Source == "cache" {
		t.Fatalf("force refresh: %v %v", f, err)
	}

	ps, err := c.ListProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := goplugin.Profile{Name: "m365", Product: "vb365", URL: em.URL(), Username: m365User, Default: true}
	if len(ps) != 1 || ps[0] != want {
		t.Fatalf("profiles: %+v", ps)
	}

	// Errors carry the helper's message and exit code.
	_, err = c.GetCredential(ctx, goplugin.Request{Profile: "nope"})
	var pe *exitcode.Error
	if !errors.As(err, &pe) || pe.Exit != 2 || pe.Code() != "invalid_configuration" || !strings.Contains(pe.Msg, `unknown profile "nope"`) {
		t.Fatalf("unknown profile: %#v", err)
	}
	if err := c.Invalidate(ctx, "nope"); exitcode.Of(err) != 2 {
		t.Fatalf("invalidate unknown profile: %v", err)
	}

	// Logs (the plugin's --debug lines through hclog) hold no secret.
	c.Close()
	logs := log.String()
	if !strings.Contains(logs, "profile \"m365\": refresh grant") || !strings.Contains(logs, "source=refresh") {
		t.Errorf("expected the plugin's debug lines in the host log:\n%s", logs)
	}
	testenv.NoSecrets(t, "the plugin's log", logs, nil, cred.AccessToken, ref.AccessToken, m365Password, testenv.Passphrase)
}

func TestPluginBadPasswordIsExit3(t *testing.T) {
	e, _ := home(t, emulator.Options{}, nil)
	e.Vars["VB365_PASSWORD"] = "wrong-password"
	c, _ := launch(t, e)
	_, err := c.GetCredential(ctxT(t), goplugin.Request{Profile: "m365"})
	var pe *exitcode.Error
	if !errors.As(err, &pe) || pe.Exit != 3 || pe.Code() != "invalid_credentials" || strings.Contains(pe.Msg, "wrong-password") {
		t.Fatalf("bad password: %#v", err)
	}
}

func TestPluginBrokenConfigAnswersItsError(t *testing.T) {
	e, _ := home(t, emulator.Options{}, nil)
	if err := os.WriteFile(e.ConfigPath, []byte("[profiles.m365]\nproduct = \"vb365\"\nurl = \"https://x\"\nbogus = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := launch(t, e)
	_, err := c.GetCredential(ctxT(t), goplugin.Request{Profile: "m365"})
	if exitcode.Of(err) != 2 || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("broken config: %v", err)
	}
	if _, err := c.ListProfiles(ctxT(t)); exitcode.Of(err) != 2 {
		t.Fatalf("list with a broken config: %v", err)
	}
}

func TestPluginModeByMagicCookieAlone(t *testing.T) {
	// A host that launches the bare binary (no `plugin` argument) gets the plugin too.
	e, em := home(t, emulator.Options{}, nil)
	c, _ := launch(t, e, []string{}...)
	cred, err := c.GetCredential(ctxT(t), goplugin.Request{Profile: "m365"})
	if err != nil || !em.Valid(cred.AccessToken) {
		t.Fatalf("bare binary as plugin: %v %v", cred, err)
	}
	// Global flags before no command work too.
	c2, _ := launch(t, e, "--config", e.ConfigPath)
	if cred, err := c2.GetCredential(ctxT(t), goplugin.Request{Profile: "m365"}); err != nil || cred.Source != "cache" {
		t.Fatalf("--config only: %v %v", cred, err)
	}
}

func TestPluginDefaultProfileFromEnvironment(t *testing.T) {
	e, _ := home(t, emulator.Options{}, nil)
	e.Profiles(e.Config.Profiles[0], e.User("second", "vb365", "second-user", "pw-second"))
	ctx := ctxT(t)

	// Two profiles, no default_profile: a request must name one.
	c, _ := launch(t, e)
	if _, err := c.GetCredential(ctx, goplugin.Request{}); exitcode.Of(err) != 2 || !strings.Contains(err.Error(), "several profiles") {
		t.Fatalf("no profile named: %v", err)
	}
	ps, err := c.ListProfiles(ctx)
	if err != nil || len(ps) != 2 || ps[0].Name != "m365" || ps[1].Name != "second" || ps[0].Default || ps[1].Default {
		t.Fatalf("profiles: %+v %v", ps, err)
	}

	// VEEAM_PROFILE in the plugin's environment picks the default.
	e.Vars["VEEAM_PROFILE"] = "second"
	c2, _ := launch(t, e)
	cred, err := c2.GetCredential(ctx, goplugin.Request{})
	if err != nil || cred.Profile != "second" || cred.Username != "second-user" {
		t.Fatalf("VEEAM_PROFILE=second: %v %v", cred, err)
	}
	if ps, err := c2.ListProfiles(ctx); err != nil || !ps[1].Default || ps[0].Default {
		t.Fatalf("profiles with VEEAM_PROFILE: %+v %v", ps, err)
	}
	// -p wins over VEEAM_PROFILE.
	c3, _ := launch(t, e, "-p", "m365", "plugin")
	if cred, err := c3.GetCredential(ctx, goplugin.Request{}); err != nil || cred.Profile != "m365" {
		t.Fatalf("-p m365: %v %v", cred, err)
	}
}

func TestPluginConcurrentGetsCauseOneGrant(t *testing.T) {
	e, em := home(t, emulator.Options{}, nil)
	// A slow server widens the window in which the 50 calls overlap.
	em.SetDelay(300 * time.Millisecond)
	c, _ := launch(t, e)
	ctx := ctxT(t)
	const n = 50
	tokens := make([]string, n)
	sources := make([]string, n)
	errs := make([]error, n)
	testenv.AtOnce(n, func(i int) {
		cred, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
		if err != nil {
			errs[i] = err
			return
		}
		tokens[i], sources[i] = cred.AccessToken, cred.Source
	})
	grants := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("call %d got another token", i)
		}
		if sources[i] == "grant" {
			grants++
		}
	}
	cnt := em.Counts()
	if cnt.Grants["password"] != 1 || cnt.TokenCalls != 1 || grants != 1 {
		t.Fatalf("50 concurrent calls: %d password grants, %d token calls, %d answers with source grant; want 1 each",
			cnt.Grants["password"], cnt.TokenCalls, grants)
	}
}

func TestPluginKilledMidCallFailsFastAndNewClientWorks(t *testing.T) {
	e, em := home(t, emulator.Options{}, nil)
	em.HangNext(1)
	c, _ := launch(t, e)
	rc := c.Plugin().ReattachConfig()
	if rc == nil || rc.Pid == 0 {
		t.Fatal("no plugin pid")
	}
	ctx := ctxT(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
		done <- err
	}()
	// Wait until the plugin is inside the grant (the server holds it).
	deadline := time.Now().Add(20 * time.Second)
	for em.Counts().TokenCalls == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the plugin never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p, err := os.FindProcess(rc.Pid)
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a killed plugin answered a credential")
		}
		var pe *exitcode.Error
		if errors.As(err, &pe) {
			t.Fatalf("a dead plugin's error looks like a helper answer: %#v", err)
		}
		t.Logf("host saw after %s: %v", time.Since(killed).Round(time.Millisecond), err)
	case <-time.After(10 * time.Second):
		t.Fatal("the host hangs on a killed plugin")
	}
	// Later calls on the dead client fail at once too.
	if _, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"}); err == nil {
		t.Fatal("a dead client answered")
	}
	deadline = time.Now().Add(10 * time.Second)
	for !c.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !c.Exited() {
		t.Error("client does not report the plugin as exited")
	}
	c.Close()

	// The kernel released the dead process's lock: a new plugin logs in.
	c2, _ := launch(t, e)
	cred, err := c2.GetCredential(ctx, goplugin.Request{Profile: "m365"})
	if err != nil {
		t.Fatalf("new client after the kill: %v", err)
	}
	if code := testenv.Protected(t, em, cred.AccessToken, ""); code != http.StatusOK {
		t.Fatalf("protected resource: %d", code)
	}
}

func TestPluginTokenSourceRenewsAcrossExpiry(t *testing.T) {
	const ttl = 3 * time.Second
	e, em := home(t, emulator.Options{AccessTTL: ttl}, func(p *testenv.Profile) { p.RefreshBefore = "1s" })
	c, _ := launch(t, e)
	ctx := context.WithValue(ctxT(t), oauth2.HTTPClient, em.Client())
	ts := testenv.NewRecordingSource(c.TokenSource(ctx, "m365"))
	hc := oauth2.NewClient(ctx, ts)
	testenv.CallFor(t, hc, em, 2*ttl+time.Second)
	seen := ts.Distinct()
	cnt := em.Counts()
	if cnt.Grants["password"] != 1 || cnt.Grants["refresh_token"] < 2 || seen < 3 {
		t.Fatalf("over %s with tokens living %s: %d password grants, %d refresh grants, %d distinct tokens",
			2*ttl+time.Second, ttl, cnt.Grants["password"], cnt.Grants["refresh_token"], seen)
	}
}

func TestExampleHostPrintsProfileNeverToken(t *testing.T) {
	e, _ := home(t, emulator.Options{}, nil)
	host := filepath.Join(t.TempDir(), "example-host")
	if out, err := exec.Command("go", "build", "-o", host, "./example-host").CombinedOutput(); err != nil {
		t.Fatalf("build example-host: %v\n%s", err, out)
	}
	runHost := func(args ...string) (string, string, int) {
		cmd := exec.Command(host, args...)
		cmd.Env = e.Environ()
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	bin := testenv.Binary(t)
	out1, err1, code := runHost("-plugin", bin, "-profile", "m365")
	if code != 0 || !strings.Contains(out1, "profile:    m365") || !strings.Contains(out1, "source:     grant") || !strings.Contains(out1, "expires at: ") {
		t.Fatalf("example-host: exit %d\nstdout:\n%s\nstderr:\n%s", code, out1, err1)
	}
	out2, err2, code := runHost("-plugin", bin, "-profile", "m365")
	if code != 0 || !strings.Contains(out2, "source:     cache") {
		t.Fatalf("example-host again: exit %d\nstdout:\n%s\nstderr:\n%s", code, out2, err2)
	}
	tok := e.Run("", "get", "--format", "token")
	token := strings.TrimSpace(tok.Stdout)
	if tok.Exit != 0 || token == "" {
		t.Fatalf("get --format token: %+v", tok)
	}
	for _, s := range []string{out1, err1, out2, err2} {
		if !testenv.NoSecrets(t, "example-host output", s, nil, token, m365Password) {
			t.FailNow()
		}
	}
	// A failure is the helper's message and exit code.
	out3, err3, code := runHost("-plugin", bin, "-profile", "nope")
	if code != 2 || out3 != "" || !strings.Contains(err3, `unknown profile "nope"`) {
		t.Fatalf("unknown profile: exit %d\nstdout:\n%s\nstderr:\n%s", code, out3, err3)
	}
}

// TestPluginCachedGetLatency reports percentiles of a cached call through
// the plugin (the goal is a p50 of at most 100µs without -race).
func TestPluginCachedGetLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("latency measurement in -short mode")
	}
	e, _ := home(t, emulator.Options{}, nil)
	c, _ := launch(t, e)
	ctx := ctxT(t)
	if _, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	d := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		cred, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
		d = append(d, time.Since(start))
		if err != nil || cred.Source != "cache" {
			t.Fatalf("call %d: %v %v", i, cred, err)
		}
	}
	p50, p90, p99 := percentiles(d)
	t.Logf("cached GetCredential through the plugin, %d calls: p50 %s, p90 %s, p99 %s", n, p50, p90, p99)
}

func percentiles(d []time.Duration) (p50, p90, p99 time.Duration) {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))] }
	return at(0.50), at(0.90), at(0.99)
}

func BenchmarkPluginCachedGet(b *testing.B) {
	e, _ := home(b, emulator.Options{}, nil)
	c, _ := launch(b, e)
	ctx := context.Background()
	if _, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"}); err != nil {
		b.Fatal(err)
	}
	d := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cred, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
		d = append(d, time.Since(start))
		if err != nil || cred.Source != "cache" {
			b.Fatalf("call %d: %v %v", i, cred, err)
		}
	}
	b.StopTimer()
	p50, p90, p99 := percentiles(d)
	b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(p90.Nanoseconds()), "p90-ns")
	b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
}
