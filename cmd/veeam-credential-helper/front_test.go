package main

// The front program: it answers cache hits by itself, byte for byte as the
// engine does, and hands everything else to the engine with stdin intact;
// go-plugin's handshake reaches the plugin program through it.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/commands"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// frontAlone is a copy of the front with no engine next to it or on PATH:
// whatever it answers, it answered by itself.
func frontAlone(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(testenv.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(testenv.Binary(t)))
	if err := os.WriteFile(p, b, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// runAlone runs bin with the Env's environment, PATH emptied and extra variables.
func runAlone(t *testing.T, e *testenv.Env, bin, stdin string, env []string, args ...string) testenv.Result {
	t.Helper()
	saved := e.Vars
	e.Vars = map[string]string{"PATH": "/nonexistent"}
	for k, v := range saved {
		if k != "PATH" {
			e.Vars[k] = v
		}
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		e.Vars[k] = v
	}
	defer func() { e.Vars = saved }()
	return e.RunOf(context.Background(), bin, stdin, args...)
}

// The front answers every hit as the engine does, byte for byte: both run
// in process here (cli.Answer with the front's hit source, commands.Run);
// TestFrontAnswersHitsAlone checks that the program does it by itself.
func TestFrontAnswersHitsLikeTheEngine(t *testing.T) {
	e, em := vb365Env(t, nil)
	for k, v := range e.Vars {
		t.Setenv(k, v) // secret sources and the cache's passphrase read the process environment
	}
	var discard bytes.Buffer
	if code := commands.Run([]string{"get"}, nil, &discard, &discard, func(k string) string { return map[string]string{cli.EnvConfig: e.ConfigPath}[k] }); code != 0 {
		t.Fatalf("the grant: exit %d: %s", code, discard.String())
	}
	calls := em.Counts().TokenCalls
	host := gitHost(t, em)
	front := cli.Program{Commands: cli.HitCommands(), Source: newHitSource}
	const v1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	const v1beta1 = `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{}}`
	const v1interactive = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`
	for _, tc := range []struct {
		name  string
		stdin string
		env   []string
		args  []string
	}{
		{"json", "", nil, []string{"get"}},
		{"single-dash format", "", nil, []string{"get", "-format=token"}},
		{"format given twice", "", nil, []string{"get", "--format", "curl", "--format", "token"}},
		{"-p given twice", "", nil, []string{"-p", "nope", "get", "-p", "m365"}},
		{"config after the command", "", nil, []string{"get", "--config", e.ConfigPath, "--format", "env"}},
		{"end of flags", "", nil, []string{"get", "--format", "token", "--"}},
		{"debug=false", "", nil, []string{"--debug=false", "get"}},
		{"no-stdin", `{"profile":"nope"}`, nil, []string{"get", "--no-stdin"}},
		{"min-valid negative", "", nil, []string{"get", "--min-valid=-1h"}},
		{"whitespace request", " \n\t\r\n", nil, []string{"get"}},
		{"request with a password", `{"password":"not-used-on-a-hit","mfa_code":"123456"}`, nil, []string{"get", "--format", "token"}},
		{"request min_valid_seconds 0", `{"min_valid_seconds":0,"force_refresh":false}`, nil, []string{"get"}},
		{"request profile over VEEAM_PROFILE", `{"profile":"m365"}`, []string{"VEEAM_PROFILE=nope"}, []string{"get"}},
		{"-p over request profile", `{"profile":"nope"}`, nil, []string{"get", "-p", "m365"}},
		{"exec-credential no KUBERNETES_EXEC_INFO", "", nil, []string{"exec-credential"}},
		{"exec-credential interactive", "", []string{"KUBERNETES_EXEC_INFO=" + v1interactive}, []string{"exec-credential", "--profile", "m365"}},
		{"git get no blank line", "protocol=https\nhost=" + host, nil, []string{"git", "get"}},
		{"git get CRLF", "protocol=https\r\nhost=" + host + "\r\n\r\n", nil, []string{"git", "get"}},
		{"git get username and wwwauth", "protocol=https\nhost=" + host + "\nusername=" + m365User + "\nwwwauth[]=Bearer realm=x\n\n", nil, []string{"git", "get"}},
		{"git get -p after git", "protocol=https\nhost=" + host + "\n\n", nil, []string{"git", "-p", "m365", "get"}},
		{"git get VEEAM_PROFILE another host", "protocol=https\nhost=github.com\n\n", []string{"VEEAM_PROFILE=nope"}, []string{"git", "get"}},
		{"git get plain http", "protocol=http\nhost=" + host + "\n\n", nil, []string{"git", "get"}},
		{"git get another user", "protocol=https\nhost=" + host + "\nusername=someone-else\n\n", nil, []string{"git", "get"}},
		{"token", "", nil, []string{"get", "--format", "token"}},
		{"header", "", nil, []string{"get", "--format=header"}},
		{"curl", "", nil, []string{"get", "--format", "curl"}},
		{"env", "", nil, []string{"get", "--format", "env"}},
		{"min-valid", "", nil, []string{"get", "--min-valid", "1m"}},
		{"profile before", "", nil, []string{"-p", "m365", "get", "--format", "token"}},
		{"profile after", "", nil, []string{"get", "--profile=m365"}},
		{"VEEAM_PROFILE", "", []string{"VEEAM_PROFILE=m365"}, []string{"get"}},
		{"JSON request", `{"profile":"m365","min_valid_seconds":120}`, nil, []string{"get"}},
		{"empty JSON request", `{}`, nil, []string{"get", "--format", "header"}},
		{"exec-credential v1", "", []string{"KUBERNETES_EXEC_INFO=" + v1}, []string{"exec-credential"}},
		{"exec-credential v1beta1", "", []string{"KUBERNETES_EXEC_INFO=" + v1beta1}, []string{"-p", "m365", "exec-credential"}},
		{"git get", "protocol=https\nhost=" + host + "\n\n", nil, []string{"git", "get"}},
		{"git get authtype", "capability[]=authtype\nprotocol=https\nhost=" + host + "\npath=repo.git\n\n", nil, []string{"git", "get"}},
		{"git get another host", "protocol=https\nhost=github.com\n\n", nil, []string{"git", "get"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{cli.EnvConfig: e.ConfigPath}
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			getenv := func(k string) string { return env[k] }
			var want, werr bytes.Buffer
			if code := commands.Run(tc.args, strings.NewReader(tc.stdin), &want, &werr, getenv); code != 0 || werr.Len() != 0 {
				t.Fatalf("engine: exit %d, stderr %q", code, werr.String())
			}
			got, ok := cli.Answer(front, tc.args, stdinFile(t, tc.stdin), getenv)
			if !ok || string(got) != want.String() {
				t.Fatalf("front answered differently from the engine:\nfront  %v %q\nengine %q", ok, got, want.String())
			}
			if !strings.Contains(tc.name, "another") && tc.name != "git get plain http" && !strings.Contains(string(got), "vb365-at-") {
				t.Fatalf("no token in the answer: %q", got)
			}
		})
	}
	if n := em.Counts().TokenCalls; n != calls {
		t.Fatalf("cache hits made %d token calls", n-calls)
	}
}

// The front program answers a hit by itself: without the engine next to
// it or on PATH, get, exec-credential and git get answer the cached token.
func TestFrontAnswersHitsAlone(t *testing.T) {
	e, em := vb365Env(t, nil)
	mustOK(t, e.Run("", "get"))
	front := frontAlone(t)
	const v1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	for _, tc := range []struct {
		stdin string
		env   []string
		args  []string
		has   string
	}{
		{"", nil, []string{"get", "--format", "token"}, "vb365-at-"},
		{"", []string{"KUBERNETES_EXEC_INFO=" + v1}, []string{"exec-credential"}, `"token":"vb365-at-`},
		{"protocol=https\nhost=" + gitHost(t, em) + "\n\n", nil, []string{"git", "get"}, "password=vb365-at-"},
	} {
		r := runAlone(t, e, front, tc.stdin, tc.env, tc.args...)
		if r.Exit != 0 || r.Stderr != "" || !strings.Contains(r.Stdout, tc.has) {
			t.Errorf("%v alone: %+v", tc.args, r)
		}
	}
}

// A miss goes to the engine with what the front read of stdin: the password
// in the JSON request, git's request, an oversized request.
func TestFrontHandsMissesToTheEngineWithStdin(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	r := e.Run(`{"password":"`+m365Password+`"}`, "get")
	mustOK(t, r)
	if a := decode(t, r); a.Source != "grant" || a.AccessToken == "" {
		t.Fatalf("answer %+v", a)
	}
	if em.Counts().Grants["password"] != 1 {
		t.Fatalf("grants %v", em.Counts().Grants)
	}

	// git get on an empty cache: the engine needs git's request to pick the profile.
	mustOK(t, e.Run("", "logout"))
	e.Vars["VB365_PASSWORD"] = m365Password
	r = e.Run("protocol=https\nhost="+gitHost(t, em)+"\n\n", "git", "get")
	mustOK(t, r)
	if !strings.Contains(r.Stdout, "password=vb365-at-") || em.Counts().Grants["password"] != 2 {
		t.Fatalf("git get on a miss: %+v, grants %v", r, em.Counts().Grants)
	}

	// More than a request may hold: the engine reports it as it would alone.
	big := "{" + strings.Repeat(" ", 70<<10) + "}"
	got := e.Run(big, "get")
	want := e.RunOf(context.Background(), testenv.Engine(t), big, "get")
	if got.Exit != 2 || got.Exit != want.Exit || got.Stdout != want.Stdout || got.Stderr != want.Stderr {
		t.Fatalf("oversized request:\nfront  %+v\nengine %+v", got, want)
	}
}

// What the engine must say is said on a hit too: debug lines, and the
// warnings of a profile with an unverified or plain connection (tested in
// helper/server_test.go, TestTransportWarnings).
func TestFrontLeavesDebugToTheEngine(t *testing.T) {
	e, _ := vb365Env(t, nil)
	mustOK(t, e.Run("", "get"))
	r := e.Run("", "--debug", "get", "--format", "token")
	mustOK(t, r)
	if !strings.Contains(r.Stderr, "cache hit") {
		t.Fatalf("--debug on a hit: stderr %q", r.Stderr)
	}
}

// Without the engine, the front still answers hits, and says in one line
// what is missing for everything else.
func TestFrontWithoutEngine(t *testing.T) {
	e, _ := vb365Env(t, nil)
	front := frontAlone(t)
	for _, args := range [][]string{{"get"}, {"status"}, {"version"}} {
		r := runAlone(t, e, front, "", nil, args...)
		if r.Exit != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 ||
			!strings.Contains(r.Stderr, "veeam-credential-helper-engine is not installed") || !strings.Contains(r.Stderr, "go install ./cmd/...") ||
			strings.Contains(r.Stderr, "@latest") || strings.Contains(r.Stderr, "release archive") {
			t.Fatalf("%v without the engine: %+v", args, r)
		}
	}
	mustOK(t, e.Run("", "get"))
	if r := runAlone(t, e, front, "", nil, "get", "--format", "token"); r.Exit != 0 || !strings.HasPrefix(r.Stdout, "vb365-at-") {
		t.Fatalf("hit without the engine: %+v", r)
	}
}

// get --no-stdin leaves stdin alone: an open pipe does not hang it (a hit by
// the front, a miss by the engine), and a `while read` loop's input is not
// consumed.
func TestGetNoStdin(t *testing.T) {
	e, em := vb365Env(t, nil)
	for _, hitOrMiss := range []string{"miss", "hit"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := e.Command(ctx, "get", "--no-stdin", "--format", "token")
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.Output() // stdin stays open until after it returns
		cancel()
		w.Close()
		if err != nil || !strings.HasPrefix(string(out), "vb365-at-") {
			t.Fatalf("%s with an open stdin: %v %q", hitOrMiss, err, out)
		}
	}
	if g := em.Counts().Grants["password"]; g != 1 {
		t.Fatalf("grants %d", g)
	}

	// The loop's input stays where it was: the file offset does not move.
	list := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(list, []byte("host-1\nhost-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{testenv.Binary(t), testenv.Engine(t)} {
		f, err := os.Open(list)
		if err != nil {
			t.Fatal(err)
		}
		cmd := e.CommandOf(context.Background(), bin, "get", "--no-stdin", "--format", "token")
		cmd.Stdin = f
		if out, err := cmd.Output(); err != nil || !strings.HasPrefix(string(out), "vb365-at-") {
			t.Fatalf("%s: %v %q", filepath.Base(bin), err, out)
		}
		if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
			t.Fatalf("%s read stdin up to offset %d (%v)", filepath.Base(bin), off, err)
		}
		f.Close()
	}
}

// `go run ./cmd/veeam-credential-helper …` from a checkout: no engine beside
// a binary in Go's build cache, so the front builds one (into the user's
// cache directory) and hands it the call.
func TestGoRunBuildsTheEngine(t *testing.T) {
	goEnv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	cacheHome := t.TempDir()
	cmd := exec.Command("go", "run", "./cmd/veeam-credential-helper", "version")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheHome, "GOCACHE="+goEnv("GOCACHE"), "GOMODCACHE="+goEnv("GOMODCACHE"), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "veeam-credential-helper ") {
		t.Fatalf("go run … version: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(cacheHome, "veeam-credential-helper", "go-run", "veeam-credential-helper-engine")); err != nil && runtime.GOOS == "linux" {
		t.Fatalf("no engine built in the cache directory: %v", err)
	}
}

// runOpen runs bin as RunOf does, but with stdin a pipe that gets stdin and
// then stays open until the process has exited (git, kubectl and scripts may
// leave it so). A process that waits for EOF is killed after 30 seconds.
func runOpen(t *testing.T, e *testenv.Env, bin, stdin string, args ...string) testenv.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := e.CommandOf(ctx, bin, args...)
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, stdin); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait() // closes w once the process has exited
	r := testenv.Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

// The front and the engine alone, on the same home and input, answer the
// same bytes on stdout and stderr with the same exit code: here for what
// the front must not do differently on its way to a hit or to the engine.
func TestFrontDivergesNotFromTheEngine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts as passphrase_command")
	}
	const v1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	for _, tc := range []struct {
		name string
		// setup changes the home after its cache was filled; before runs
		// before each of the two runs.
		setup  func(t *testing.T, e *testenv.Env, em *emulator.Emulator) (before func())
		stdin  string // with "{host}" replaced by the emulator's host
		open   bool   // stdin stays open after the request
		env    []string
		args   []string
		answer string // in stdout
	}{
		// git writes its request up to a blank line: the engine answers
		// there, open stdin or not.
		{name: "git get, stdin left open", stdin: "protocol=https\nhost={host}\n\n", open: true,
			args: []string{"git", "get"}, answer: "password=vb365-at-"},
		{name: "git get another host, stdin left open", stdin: "protocol=https\nhost=github.com\n\n", open: true,
			args: []string{"git", "get"}},
		{name: "git get bad line, stdin left open", stdin: "protocol=https\nhost={host}\nnot a key value\n\n", open: true,
			args: []string{"git", "get"}},
		{name: "git get a miss, stdin left open", stdin: "protocol=https\nhost={host}\n\n", open: true,
			setup: func(t *testing.T, e *testenv.Env, em *emulator.Emulator) func() {
				mustOK(t, e.Run("", "logout"))
				return nil
			},
			args: []string{"git", "get"}, answer: "password=vb365-at-"},
		// The passphrase command runs once per call, as the engine alone
		// runs it: its own stderr once, a prompt (pinentry) once. Here a
		// miss the engine answers from the cache (the server fails), so
		// both runs see the same cache.
		{name: "passphrase_command, a miss", setup: passphraseCommand(true),
			args: []string{"get", "--min-valid", "2h", "--format", "token"}, answer: "vb365-at-"},
		{name: "passphrase_command, a hit", setup: passphraseCommand(false),
			args: []string{"get", "--format", "token"}, answer: "vb365-at-"},
		{name: "passphrase_command, exec-credential", setup: passphraseCommand(false),
			env: []string{"KUBERNETES_EXEC_INFO=" + v1}, args: []string{"exec-credential"}, answer: "vb365-at-"},
		{name: "passphrase_command, git get", setup: passphraseCommand(false), stdin: "protocol=https\nhost={host}\n\n",
			args: []string{"git", "get"}, answer: "password=vb365-at-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, em := vb365Env(t, nil)
			mustOK(t, e.Run("", "get"))
			before := func() {}
			if tc.setup != nil {
				if b := tc.setup(t, e, em); b != nil {
					before = b
				}
			}
			stdin := strings.ReplaceAll(tc.stdin, "{host}", gitHost(t, em))
			run := func(bin string) testenv.Result {
				before()
				for _, kv := range tc.env {
					k, v, _ := strings.Cut(kv, "=")
					e.Vars[k] = v
				}
				if tc.open {
					return runOpen(t, e, bin, stdin, tc.args...)
				}
				return e.RunOf(context.Background(), bin, stdin, tc.args...)
			}
			want := run(testenv.Engine(t))
			got := run(testenv.Binary(t))
			if !strings.Contains(want.Stdout, tc.answer) {
				t.Fatalf("engine: %+v", want)
			}
			if got.Exit != want.Exit || got.Stdout != want.Stdout || got.Stderr != want.Stderr {
				t.Fatalf("front answered differently from the engine:\nfront  %+v\nengine %+v", got, want)
			}
		})
	}
}

// passphraseCommand makes the home's passphrase come from a command that
// says so on stderr; with failServer, the server fails the next token call
// before each run.
func passphraseCommand(failServer bool) func(t *testing.T, e *testenv.Env, em *emulator.Emulator) func() {
	return func(t *testing.T, e *testenv.Env, em *emulator.Emulator) func() {
		script := filepath.Join(e.Dir, "passphrase.sh")
		text := "#!/bin/sh\necho 'passphrase command: diagnostics' >&2\necho '" + testenv.Passphrase + "'\n"
		if err := os.WriteFile(script, []byte(text), 0o700); err != nil {
			t.Fatal(err)
		}
		c := e.Config
		c.Cache.PassphraseCommand = []string{script}
		e.Write(c)
		delete(e.Vars, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE")
		if !failServer {
			return nil
		}
		return func() { em.ClearFaults(); em.FailNext(1, http.StatusInternalServerError, 0) }
	}
}

func TestPluginByHandExitsAtOnceWithExit2(t *testing.T) {
	e, _ := vb365Env(t, nil)
	for _, tc := range []struct {
		name   string
		cookie string // "" = unset
		want   string
	}{
		{"no cookie", "", "not meant to be run by hand"},
		{"wrong cookie", "1", "not this version's magic cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delete(e.Vars, goplugin.MagicCookieKey)
			if tc.cookie != "" {
				e.Vars[goplugin.MagicCookieKey] = tc.cookie
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := e.RunContext(ctx, "", "plugin")
			if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, tc.want) || !strings.Contains(r.Stderr, "go-plugin") && tc.cookie == "" {
				t.Fatalf("plugin by hand: exit %d after %s\nstdout=%q\nstderr=%q", r.Exit, r.Duration, r.Stdout, r.Stderr)
			}
			if strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Fatalf("want one line on stderr, got %q", r.Stderr)
			}
		})
	}
	delete(e.Vars, goplugin.MagicCookieKey)
	if r := e.Run("", "plugin", "extra"); r.Exit != 2 {
		t.Fatalf("plugin with an argument: %+v", r)
	}
}

func TestMagicCookieDoesNotHijackOtherCommands(t *testing.T) {
	// A command named on the command line runs even with the cookie set
	// (e.g. a plugin's password_command calling `get`).
	e, _ := vb365Env(t, nil)
	e.Vars[goplugin.MagicCookieKey] = goplugin.MagicCookieValue
	r := e.Run("", "get", "--format", "json")
	if a := decode(t, r); r.Exit != 0 || a.Source != "grant" {
		t.Fatalf("get with the cookie set: %+v", r)
	}
	if r := e.Run("", "version"); r.Exit != 0 || !strings.HasPrefix(r.Stdout, "veeam-credential-helper ") {
		t.Fatalf("version with the cookie set: %+v", r)
	}
}

func TestPluginBinaryMissing(t *testing.T) {
	e, _ := vb365Env(t, nil)
	dir := t.TempDir()
	alone := filepath.Join(dir, "veeam-credential-helper")
	for _, name := range []string{"veeam-credential-helper", "veeam-credential-helper-engine"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(testenv.Binary(t)), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(alone, "--config", e.ConfigPath)
	cmd.Env = append(e.Environ(), "PATH=/nonexistent", goplugin.MagicCookieKey+"="+goplugin.MagicCookieValue)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || stdout.Len() != 0 ||
		!strings.Contains(stderr.String(), "veeam-credential-helper-plugin") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Fatalf("err=%v stdout=%q stderr=%q", err, stdout.String(), stderr.String())
	}
}
