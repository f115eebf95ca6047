package main

// The fault matrix (issue 6): retries, Retry-After, garbage answers, dropped
// and hung connections, a process killed while it holds the lock, corrupt
// cache items. Every case runs the real binary against the emulator.
//
// A few cases bound a run's duration from above ("exit 4 within timeout plus
// a second"). These are behavioural bounds — without them a helper that
// sleeps through a 10s Retry-After or hangs on a dead server would pass —
// and they are generous: slack covers the start-up of a -race binary on a
// loaded machine.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// processSlack is what a process may take beyond its own budget: start-up
// of a race-instrumented binary on a busy 2-CPU machine, and exit.
const processSlack = 3 * time.Second

// relEnv is a vb365 home whose profile has the given timeout.
func relEnv(t *testing.T, timeout string) (*testenv.Env, *emulator.Emulator) {
	t.Helper()
	return vb365Env(t, func(p *testenv.Profile) { p.Timeout = timeout })
}

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

func TestRetry503TwiceThenSuccess(t *testing.T) {
	for _, status := range []int{503, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e, em := relEnv(t, "20s")
			em.FailNext(2, status, 0)
			r := e.Run("", "get")
			mustOK(t, r)
			a := decode(t, r)
			if a.Source != "grant" || !em.Valid(a.AccessToken) {
				t.Errorf("answer %+v", a)
			}
			n := em.Counts()
			if n.TokenCalls != 3 || n.Faults != 2 || n.Grants["password"] != 1 {
				t.Errorf("server saw %+v, want 3 calls (2 faulted, 1 grant)", n)
			}
			if r.Stderr != "" {
				t.Errorf("a successful retry wrote stderr %q", r.Stderr)
			}
		})
	}
}

func TestRetryBusyUntilTimeoutExit4(t *testing.T) {
	for _, status := range []int{503, 429, 502, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			const timeout = 2 * time.Second
			e, em := relEnv(t, timeout.String())
			em.FailNext(1000, status, 0)
			r := e.Run("", "get")
			if r.Exit != 4 {
				t.Fatalf("exit %d, want 4; stderr %q", r.Exit, r.Stderr)
			}
			if r.Duration > timeout+time.Second+processSlack {
				t.Errorf("took %s with timeout %s", r.Duration.Round(time.Millisecond), timeout)
			}
			n := em.Counts()
			if n.TokenCalls < 2 {
				t.Errorf("%d calls: HTTP %d was not retried", n.TokenCalls, status)
			}
			if n.Grants["password"] != 0 {
				t.Errorf("counts %+v", n)
			}
			if a := decode(t, r); a.Error == nil || a.Error.ExitCode != 4 || a.Error.Code != "server_unavailable" {
				t.Errorf("JSON error %+v", a.Error)
			}
			assertOneLineNoLeak(t, r, emulator.StackTraceMarker, m365Password)
			t.Logf("HTTP %d until timeout %s: exit 4 after %s, %d attempts", status, timeout, r.Duration.Round(time.Millisecond), n.TokenCalls)
		})
	}
}

func TestRetryAfterHonouredWithinBudget(t *testing.T) {
	t.Run("1s within 5s", func(t *testing.T) {
		e, em := relEnv(t, "5s")
		em.FailNext(1, 503, time.Second)
		r := e.Run("", "get")
		mustOK(t, r)
		if r.Duration < time.Second {
			t.Errorf("succeeded after %s: Retry-After 1 was not waited for", r.Duration)
		}
		if n := em.Counts(); n.TokenCalls != 2 || n.Grants["password"] != 1 {
			t.Errorf("counts %+v", n)
		}
	})
	t.Run("429 2s within 10s", func(t *testing.T) {
		e, em := relEnv(t, "10s")
		em.FailNext(1, 429, 2*time.Second)
		r := e.Run("", "get")
		mustOK(t, r)
		if r.Duration < 2*time.Second {
			t.Errorf("succeeded after %s: Retry-After 2 was not waited for", r.Duration)
		}
	})
	t.Run("10s beyond 2s", func(t *testing.T) {
		const timeout = 2 * time.Second
		e, em := relEnv(t, timeout.String())
		em.FailNext(1, 429, 10*time.Second)
		r := e.Run("", "get")
		if r.Exit != 4 {
			t.Fatalf("exit %d %q", r.Exit, r.Stderr)
		}
		// It must give up at once rather than sleep into the deadline:
		// the wait it was asked for cannot fit the budget.
		if r.Duration > timeout+processSlack {
			t.Errorf("took %s: waited for a Retry-After that cannot fit timeout %s", r.Duration.Round(time.Millisecond), timeout)
		}
		if n := em.Counts(); n.TokenCalls != 1 {
			t.Errorf("%d calls, want 1", n.TokenCalls)
		}
		assertOneLineNoLeak(t, r, emulator.StackTraceMarker)
	})
}

func TestRejectedGrantNeverRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e, em := relEnv(t, "20s")
			// Even with a Retry-After: a rejection is final.
			em.FailNext(1, status, time.Second)
			r := e.Run("", "get")
			if r.Exit != 3 {
				t.Fatalf("exit %d, want 3; stderr %q", r.Exit, r.Stderr)
			}
			if n := em.Counts(); n.TokenCalls != 1 {
				t.Errorf("server saw %d attempts, want exactly 1", n.TokenCalls)
			}
			if r.Duration > time.Second+processSlack {
				t.Errorf("took %s: slept on a Retry-After of a rejection", r.Duration)
			}
			assertOneLineNoLeak(t, r, emulator.StackTraceMarker, m365Password)
		})
	}
	// The model's own rejection of a wrong password, on both products.
	t.Run("vbazure wrong password", func(t *testing.T) {
		e, em := azureEnv(t, "")
		e.Vars["AZ_PASSWORD"] = "wrong-Azure-pw-31"
		r := e.Run("", "get")
		if r.Exit != 3 || em.Counts().TokenCalls != 1 {
			t.Fatalf("exit %d, %d calls; %q", r.Exit, em.Counts().TokenCalls, r.Stderr)
		}
		assertOneLineNoLeak(t, r, "wrong-Azure-pw-31", emulator.StackTraceMarker)
	})
}

func TestGarbageDropAndHangExit4(t *testing.T) {
	const timeout = 2 * time.Second
	// Texts of the proxy page and of the truncated token answer that must
	// never be echoed.
	forbidden := []string{"Web Filter", "corporate proxy", "<html", "<!DOCTYPE", "access_token", emulator.StackTraceMarker, m365Password}
	type fault struct {
		name string
		arm  func(em *emulator.Emulator)
	}
	faults := []fault{
		{"html", func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageHTML) }},
		{"truncated", func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageTruncated) }},
		{"empty", func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageEmpty) }},
		{"drop", func(em *emulator.Emulator) { em.DropNext(1) }},
		{"hang", func(em *emulator.Emulator) { em.HangNext(1) }},
	}
	for _, product := range []string{"vb365", "vbazure"} {
		for _, f := range faults {
			t.Run(product+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				var e *testenv.Env
				var em *emulator.Emulator
				if product == "vb365" {
					e, em = relEnv(t, timeout.String())
				} else {
					e, em = azureEnv(t, "")
					cfg, _ := os.ReadFile(e.ConfigPath)
					// azureEnv's profiles: give both the short timeout.
					os.WriteFile(e.ConfigPath, []byte(strings.ReplaceAll(string(cfg), "password_env", fmt.Sprintf("timeout = %q\npassword_env", timeout))), 0o600)
				}
				f.arm(em)
				r := e.Run("", "get")
				if r.Exit != 4 {
					t.Fatalf("exit %d, want 4\nstdout=%q\nstderr=%q", r.Exit, r.Stdout, r.Stderr)
				}
				if r.Duration > timeout+time.Second+processSlack {
					t.Errorf("took %s with timeout %s", r.Duration.Round(time.Millisecond), timeout)
				}
				assertOneLineNoLeak(t, r, append(forbidden, em.TokenPrefixes()...)...)
				want := map[string]string{"html": "not a token response", "truncated": "not a token response", "empty": "not a token response",
					"drop": "closed the connection", "hang": "within timeout"}[f.name]
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("stderr %q does not say %q", r.Stderr, want)
				}
				if a := decode(t, r); a.Error == nil || a.Error.ExitCode != 4 {
					t.Errorf("JSON error %+v", a.Error)
				}
				// Nothing was cached: the next call (server healthy) grants.
				r2 := e.Run("", "get")
				mustOK(t, r2)
				if a := decode(t, r2); a.Source != "grant" {
					t.Errorf("after the fault: source %s", a.Source)
				}
				t.Logf("%s: %s", r.Duration.Round(time.Millisecond), strings.TrimSpace(r.Stderr))
			})
		}
	}
}

// A transient failure of the refresh keeps the refresh token and answers
// the still-valid cached token with a warning; the next call refreshes with
// the kept token (no grant, no reuse).
func TestTransientRefreshFailureKeepsRefreshToken(t *testing.T) {
	e, em := relEnv(t, "2s")
	a1 := decode(t, e.Run("", "get"))
	em.GarbageNext(1, emulator.GarbageHTML)
	r := e.Run("", "get", "--min-valid", "2h")
	mustOK(t, r)
	if a := decode(t, r); a.Source != "cache" || a.AccessToken != a1.AccessToken {
		t.Errorf("answer %+v", a)
	}
	if !strings.Contains(r.Stderr, "warning") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("stderr %q", r.Stderr)
	}
	r = e.Run("", "get", "--min-valid", "2h")
	mustOK(t, r)
	if a := decode(t, r); a.Source != "refresh" {
		t.Errorf("source %s", a.Source)
	}
	if n := em.Counts(); n.Grants["password"] != 1 || n.Grants["refresh_token"] != 1 || n.RefreshReuse != 0 {
		t.Errorf("counts %+v", n)
	}
}

// A process SIGKILLed while it holds the lock in the middle of a grant
// leaves no lock that blocks: the kernel drops the flock with the process.
func TestKilledMidGrantReleasesLock(t *testing.T) {
	e, em := vb365Env(t, nil) // default timeout 30s: a stuck lock would show
	em.HangNext(1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.Command(ctx, "get")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()
	// Wait until the server saw the grant: the process is inside it, lock held.
	deadline := time.Now().Add(30 * time.Second)
	for em.Counts().TokenCalls < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the process never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Prove the lock is held right now: another process must wait.
	key := cache.Key("vb365", em.URL(), m365User, "password", "", "")
	lctx, lcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	if unlock, err := cache.NewFileLocker(e.CacheDir).Lock(lctx, key); err == nil {
		unlock()
		t.Fatal("the lock is free while the process is inside the grant")
	}
	lcancel()
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-waitDone
	if st := cmd.ProcessState; st == nil || st.Success() {
		t.Fatalf("the killed process state: %v", st)
	}
	start := time.Now()
	r := e.Run("", "get")
	took := time.Since(start)
	mustOK(t, r)
	if a := decode(t, r); a.Source != "grant" || !em.Valid(a.AccessToken) {
		t.Errorf("answer %+v", a)
	}
	if took > 10*time.Second { // a stale lock would hold it for the 30s timeout
		t.Errorf("next call took %s after the kill: a stale lock blocked it", took)
	}
	t.Logf("after SIGKILL mid-grant the next call succeeded in %s", took.Round(time.Millisecond))
	// The lock file itself stays (removing it would be racy); it must not
	// hold anything back either: a third call answers from the cache.
	if a := decode(t, e.Run("", "get")); a.Source != "cache" {
		t.Errorf("third call source %s", a.Source)
	}
}

// twoProfileEnv has two vb365 identities on one server.
func twoProfileEnv(t *testing.T) (*testenv.Env, *emulator.Emulator) {
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vb365"})
	em.AddUser(m365User, m365Password)
	em.AddUser("corp\\second", "pw-second-0002")
	e.Vars["VB365_PASSWORD"] = m365Password
	e.Vars["SECOND_PASSWORD"] = "pw-second-0002"
	e.WriteConfig(fmt.Sprintf(`default_profile = "m365"

[profiles.m365]
product = "vb365"
url = %[1]q
username = '%[3]s'
password_env = "VB365_PASSWORD"
ca_file = %[2]q

[profiles.second]
product = "vb365"
url = %[1]q
username = 'corp\second'
password_env = "SECOND_PASSWORD"
ca_file = %[2]q
`, em.URL(), e.CAFile("vb365"), m365User))
	return e, em
}

func TestCorruptEntryIsAMissOthersUntouched(t *testing.T) {
	e, em := twoProfileEnv(t)
	a1 := decode(t, e.Run("", "get"))
	b1 := decode(t, e.Run("", "-p", "second", "get"))
	key := cache.Key("vb365", em.URL(), m365User, "password", "", "")
	item := filepath.Join(e.CacheDir, "tokens", key)
	good, err := os.ReadFile(item)
	if err != nil {
		t.Fatalf("the m365 item is not where expected: %v", err)
	}
	secondKey := cache.Key("vb365", em.URL(), `corp\second`, "password", "", "")
	secondItem := filepath.Join(e.CacheDir, "tokens", secondKey)
	secondBytes, err := os.ReadFile(secondItem)
	if err != nil {
		t.Fatal(err)
	}
	corruptions := map[string][]byte{
		"garbage":          []byte("\x00\xffnot a JWE at all\n"),
		"truncated":        good[:len(good)/2],
		"empty":            {},
		"five dots":        []byte("a.b.c.d.e"),
		"bad header":       append([]byte("eyJhbGciOiJub25lIn0"), good[strings.IndexByte(string(good), '.'):]...),
		"trailing garbage": append(append([]byte{}, good...), "xx"...),
	}
	grants := 1
	for name, bad := range corruptions {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(item, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			r := e.Run("", "get")
			mustOK(t, r)
			grants++
			a := decode(t, r)
			if a.Source != "grant" || a.AccessToken == a1.AccessToken || !em.Valid(a.AccessToken) {
				t.Errorf("answer %+v", a)
			}
			if n := em.Counts().Grants["password"]; n != grants+1 { // +1: the second profile's grant
				t.Errorf("%d password grants, want %d", n, grants+1)
			}
			// Replaced by a well-formed item: the next call is a hit.
			if a2 := decode(t, e.Run("", "get")); a2.Source != "cache" || a2.AccessToken != a.AccessToken {
				t.Errorf("after replacement: %+v", a2)
			}
			// The other identity's item was neither read as corrupt nor touched.
			b := decode(t, e.Run("", "-p", "second", "get"))
			if b.Source != "cache" || b.AccessToken != b1.AccessToken {
				t.Errorf("second profile: %+v", b)
			}
			if now, _ := os.ReadFile(secondItem); string(now) != string(secondBytes) {
				t.Error("the second profile's item changed")
			}
		})
	}
}

func TestWrongPassphraseExit6(t *testing.T) {
	e, em := vb365Env(t, nil)
	mustOK(t, e.Run("", "get"))
	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = "not-the-passphrase-93"
	r := e.Run("", "get")
	if r.Exit != 6 || !strings.Contains(r.Stderr, "passphrase") {
		t.Fatalf("exit %d stderr %q", r.Exit, r.Stderr)
	}
	assertOneLineNoLeak(t, r, "not-the-passphrase-93", testenv.Passphrase, m365Password)
	if a := decode(t, r); a.Error == nil || a.Error.Code != "cache_unavailable" {
		t.Errorf("JSON error %+v", a.Error)
	}
	// Nothing was sent and nothing overwritten: the right passphrase still opens it.
	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = testenv.Passphrase
	if a := decode(t, e.Run("", "get")); a.Source != "cache" {
		t.Errorf("with the right passphrase again: %+v", a)
	}
	if n := em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server saw %d calls", n.TokenCalls)
	}
	// No passphrase at all and no terminal: exit 6 naming the options.
	delete(e.Vars, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE")
	r = e.Run("", "get")
	if r.Exit != 6 || !strings.Contains(r.Stderr, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE") || !strings.Contains(r.Stderr, "passphrase_command") {
		t.Errorf("no passphrase: exit %d %q", r.Exit, r.Stderr)
	}
}

func TestNoTerminalNoSecretExit5AtOnce(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	for _, stdin := range []string{"", "{}", `{"profile":"m365"}`} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := e.Command(ctx, "get")
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		cancel()
		ee, _ := err.(*exec.ExitError)
		if ee == nil || ee.ExitCode() != 5 {
			t.Fatalf("stdin %q: %v %q", stdin, err, errb.String())
		}
		// password_env is set and names an unset variable: the message names it.
		for _, want := range []string{"password_env", "$VB365_PASSWORD", "not set", "login"} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("message does not name %s: %q", want, errb.String())
			}
		}
		if took > 5*time.Second {
			t.Errorf("took %s: it waited for something", took)
		}
	}
	// kubectl says the plugin may be interactive, but stdin is not a
	// terminal: still exit 5 at once, never a prompt.
	e.Vars["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`
	r := e.Run("", "exec-credential")
	delete(e.Vars, "KUBERNETES_EXEC_INFO")
	if r.Exit != 5 || r.Stdout != "" || !strings.Contains(r.Stderr, "password_env") || r.Duration > 5*time.Second {
		t.Errorf("exec-credential, interactive, no terminal: exit %d after %s: %q", r.Exit, r.Duration, r.Stderr)
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
