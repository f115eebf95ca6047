package main

// The front program: it answers cache hits by itself, byte for byte as the
// engine does, and hands everything else to the engine with stdin intact.

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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

func TestFrontAnswersHitsLikeTheEngine(t *testing.T) {
	e, em := vb365Env(t, "")
	mustOK(t, e.Run("", "get"))
	calls := em.Counts().TokenCalls
	front := frontAlone(t)
	host := gitHost(t, em)
	const v1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	const v1beta1 = `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{}}`
	for _, tc := range []struct {
		name  string
		stdin string
		env   []string
		args  []string
	}{
		{"json", "", nil, []string{"get"}},
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
			got := runAlone(t, e, front, tc.stdin, tc.env, tc.args...)
			want := runAlone(t, e, testenv.Engine(t), tc.stdin, tc.env, tc.args...)
			if want.Exit != 0 || want.Stderr != "" {
				t.Fatalf("engine: %+v", want)
			}
			if got.Exit != want.Exit || got.Stdout != want.Stdout || got.Stderr != want.Stderr {
				t.Fatalf("front answered differently from the engine:\nfront  %+v\nengine %+v", got, want)
			}
			if tc.name != "git get another host" && !strings.Contains(got.Stdout, "vb365-at-") {
				t.Fatalf("no token in the answer: %q", got.Stdout)
			}
		})
	}
	if n := em.Counts().TokenCalls; n != calls {
		t.Fatalf("cache hits made %d token calls", n-calls)
	}
}

// A miss goes to the engine with what the front read of stdin: the password
// in the JSON request, git's request, an oversized request.
func TestFrontHandsMissesToTheEngineWithStdin(t *testing.T) {
	e, em := vb365Env(t, "")
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
// security_test.go).
func TestFrontLeavesDebugToTheEngine(t *testing.T) {
	e, _ := vb365Env(t, "")
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
	e, _ := vb365Env(t, "")
	front := frontAlone(t)
	for _, args := range [][]string{{"get"}, {"status"}, {"version"}} {
		r := runAlone(t, e, front, "", nil, args...)
		if r.Exit != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 ||
			!strings.Contains(r.Stderr, "veeam-credential-helper-engine is not installed") {
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
	e, em := vb365Env(t, "")
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
