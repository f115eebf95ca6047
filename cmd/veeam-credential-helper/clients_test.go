package main

// Real-client tests: kubectl (exec credential plugin), git (credential
// helper), curl (-K -) and sh (eval of --format env) drive the built binary
// against the emulator. They skip when a client is missing, except in CI
// (CI=true), where a missing client is a failure.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// requireTool returns the path of a client binary; a missing one fails the
// test in CI and skips it elsewhere.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not on PATH: the real-client tests must run in CI (install it; .ci/run checks for it)", name)
		}
		t.Skipf("%s is not on PATH (in CI this is a failure)", name)
	}
	return p
}

// runClient runs a client with the Env's environment (plus extra) and stdin.
func runClient(t *testing.T, e *testenv.Env, stdin string, extra []string, name string, args ...string) testenv.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(e.Environ(), extra...)
	cmd.Dir = e.Dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := testenv.Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %v: %v", name, args, err)
	}
	return r
}

// ---------------------------------------------------------------- kubectl

// kubeAPI is a TLS "Kubernetes API server" that trusts only bearer tokens
// the emulator issued, and remembers the tokens it accepted.
type kubeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	accepted []string
	denied   int
}

func newKubeAPI(t *testing.T, em *emulator.Emulator) *kubeAPI {
	k := &kubeAPI{}
	k.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !em.Valid(tok) {
			k.mu.Lock()
			k.denied++
			k.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
			return
		}
		k.mu.Lock()
		k.accepted = append(k.accepted, tok)
		k.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			fmt.Fprint(w, `{"major":"1","minor":"32","gitVersion":"v1.32.0-veeam-test","platform":"linux/amd64"}`)
		case "/api":
			fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}`)
		case "/apis":
			fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *kubeAPI) seen() (accepted []string, denied int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.accepted...), k.denied
}

func (k *kubeAPI) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate().Raw})
}

// writeKubeconfig writes a kubeconfig whose user runs our binary as an exec
// plugin of the given apiVersion. The kubeconfig format is JSON-compatible YAML.
func writeKubeconfig(t *testing.T, e *testenv.Env, k *kubeAPI, apiVersion string, args ...string) string {
	t.Helper()
	exe := map[string]any{
		"apiVersion": apiVersion,
		"command":    testenv.Binary(t),
		"args":       append(args, "exec-credential"),
		"env": []map[string]string{
			{"name": "VEEAM_CREDENTIAL_HELPER_CONFIG", "value": e.ConfigPath},
			{"name": "VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "value": testenv.Passphrase},
		},
		"interactiveMode":    "Never",
		"provideClusterInfo": false,
	}
	cfg := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": "veeam",
		"clusters": []any{map[string]any{"name": "test", "cluster": map[string]any{
			"server":                     k.URL,
			"certificate-authority-data": k.caPEM(),
		}}},
		"users":    []any{map[string]any{"name": "veeam", "user": map[string]any{"exec": exe}}},
		"contexts": []any{map[string]any{"name": "veeam", "context": map[string]any{"cluster": "test", "user": "veeam"}}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.Dir, "kubeconfig-"+strings.ReplaceAll(filepath.Base(apiVersion), ".", "-"))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runKubectl runs kubectl with the Env minus the passphrase and config path,
// so the plugin can only work through the kubeconfig's exec.env.
func runKubectl(t *testing.T, e *testenv.Env, kubeconfig string, args ...string) testenv.Result {
	t.Helper()
	bin := requireTool(t, "kubectl")
	saved := e.Vars
	e.Vars = map[string]string{}
	for k, v := range saved {
		if k != "VEEAM_CREDENTIAL_HELPER_PASSPHRASE" {
			e.Vars[k] = v
		}
	}
	defer func() { e.Vars = saved }()
	env := []string{"KUBECONFIG=" + kubeconfig, "VEEAM_CREDENTIAL_HELPER_CONFIG="}
	return runClient(t, e, "", env, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
}

func TestKubectlExecPlugin(t *testing.T) {
	for _, apiVersion := range []string{protocol.ExecV1, protocol.ExecV1beta1} {
		t.Run(filepath.Base(apiVersion), func(t *testing.T) {
			e, em := vb365Env(t, nil)
			k := newKubeAPI(t, em)
			kc := writeKubeconfig(t, e, k, apiVersion)

			r := runKubectl(t, e, kc, "get", "--raw", "/version")
			if r.Exit != 0 {
				t.Fatalf("kubectl exit %d\nstdout=%s\nstderr=%s", r.Exit, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stdout, "v1.32.0-veeam-test") {
				t.Errorf("kubectl stdout %q lacks the server's answer", r.Stdout)
			}
			accepted, denied := k.seen()
			if len(accepted) == 0 || denied != 0 {
				t.Fatalf("kube API accepted %d requests, denied %d", len(accepted), denied)
			}
			// The token the server saw is the one our cache holds.
			a := decode(t, e.Run("", "get"))
			if a.Source != "cache" || accepted[0] != a.AccessToken {
				t.Errorf("kube API saw a token other than the cached one (get source %s)", a.Source)
			}
			testenv.NoSecrets(t, "kubectl stderr", r.Stderr, em, m365Password)

			// A second kubectl is a cache hit: no new grant.
			r = runKubectl(t, e, kc, "get", "--raw", "/api")
			mustOK(t, r)
			if n := em.Counts(); n.Grants["password"] != 1 || n.TokenCalls != 1 {
				t.Errorf("server counts %+v, want one password grant for two kubectl runs", n)
			}
		})
	}
}

func TestKubectlExecPluginFailure(t *testing.T) {
	e, em := vb365Env(t, nil)
	const wrong = "wrong-Password-Zx93"
	e.Vars["VB365_PASSWORD"] = wrong
	k := newKubeAPI(t, em)
	kc := writeKubeconfig(t, e, k, protocol.ExecV1)
	r := runKubectl(t, e, kc, "get", "--raw", "/version")
	if r.Exit == 0 {
		t.Fatalf("kubectl succeeded with a rejected password: %s", r.Stdout)
	}
	var ours []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "veeam-credential-helper: ") {
			ours = append(ours, l)
		}
	}
	// client-go may run the plugin more than once for one command; each
	// run writes the same single line.
	if len(ours) == 0 || !strings.Contains(ours[0], "Invalid username or password") {
		t.Errorf("kubectl's stderr lacks our message:\n%s", r.Stderr)
	}
	for _, l := range ours {
		if l != ours[0] {
			t.Errorf("our lines differ (more than one line per run?):\n%s", r.Stderr)
		}
	}
	if !strings.Contains(r.Stderr, "exit code 3") {
		t.Errorf("kubectl does not report our exit code 3:\n%s", r.Stderr)
	}
	testenv.NoSecrets(t, "kubectl stderr", r.Stderr, em, wrong, m365Password)
	if accepted, _ := k.seen(); len(accepted) != 0 {
		t.Error("the kube API accepted a request")
	}

	// A profile -p names that does not exist: a usage error (exit 2).
	kc = writeKubeconfig(t, e, k, protocol.ExecV1, "-p", "nope")
	r = runKubectl(t, e, kc, "get", "--raw", "/version")
	if r.Exit == 0 || !strings.Contains(r.Stderr, `veeam-credential-helper: unknown profile "nope"`) || !strings.Contains(r.Stderr, "exit code 2") {
		t.Errorf("unknown profile: exit %d stderr:\n%s", r.Exit, r.Stderr)
	}
}

// TestExecCredentialDirect covers what kubectl does not show: the default
// apiVersion, bad KUBERNETES_EXEC_INFO, an empty stdout on failure.
func TestExecCredentialDirect(t *testing.T) {
	e, em := vb365Env(t, nil)
	type out struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Status     struct {
			Token               string `json:"token"`
			ExpirationTimestamp string `json:"expirationTimestamp"`
		} `json:"status"`
	}
	for _, tc := range []struct{ info, want string }{
		{"", protocol.ExecV1},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`, protocol.ExecV1beta1},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true,"cluster":{"server":"https://x"}}}`, protocol.ExecV1},
	} {
		e.Vars["KUBERNETES_EXEC_INFO"] = tc.info
		r := e.Run("", "exec-credential")
		mustOK(t, r)
		var o out
		if err := json.Unmarshal([]byte(r.Stdout), &o); err != nil {
			t.Fatalf("stdout %q: %v", r.Stdout, err)
		}
		exp, err := time.Parse(time.RFC3339, o.Status.ExpirationTimestamp)
		if o.Kind != "ExecCredential" || o.APIVersion != tc.want || !em.Valid(o.Status.Token) || err != nil ||
			!strings.HasSuffix(o.Status.ExpirationTimestamp, "Z") || time.Until(exp) < 50*time.Minute {
			t.Errorf("info %q: answer %+v (expiry err %v)", tc.info, o, err)
		}
		if r.Stderr != "" {
			t.Errorf("stderr on success: %q", r.Stderr)
		}
	}
	for _, info := range []string{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`, `not json`, `{"kind":"Pod","apiVersion":"v1"}`} {
		e.Vars["KUBERNETES_EXEC_INFO"] = info
		r := e.Run("", "exec-credential")
		if r.Exit != 2 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "KUBERNETES_EXEC_INFO") {
			t.Errorf("info %q: exit %d stdout %q stderr %q", info, r.Exit, r.Stdout, r.Stderr)
		}
	}
	// spec.interactive true without a terminal must not wait for a prompt:
	// a profile with no password source is exit 5 at once.
	e.Vars["KUBERNETES_EXEC_INFO"] = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`
	delete(e.Vars, "VB365_PASSWORD")
	e.Run("", "logout")
	r := e.Run("", "exec-credential")
	if r.Exit != 5 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("no password, no terminal: exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
}

// -------------------------------------------------------------------- git

// gitHelper is credential.helper for our binary (a shell command, so the
// paths can be quoted).
func gitHelper(t *testing.T, e *testenv.Env, args ...string) string {
	q := []string{protocol.ShellQuote(testenv.Binary(t)), "--config", protocol.ShellQuote(e.ConfigPath)}
	for _, a := range args {
		q = append(q, protocol.ShellQuote(a))
	}
	return "!" + strings.Join(q, " ") + " git"
}

const fallbackHelper = "!f() { echo username=fallback; echo password=fallback-pw; }; f"

// runGitCredential runs `git -c credential.helper= -c credential.helper=H… credential ACTION`.
func runGitCredential(t *testing.T, e *testenv.Env, helpers []string, stdin string, action string) testenv.Result {
	t.Helper()
	bin := requireTool(t, "git")
	args := []string{"-c", "credential.helper="}
	for _, h := range helpers {
		args = append(args, "-c", "credential.helper="+h)
	}
	args = append(args, "credential", action)
	env := []string{"GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_ASKPASS=", "SSH_ASKPASS="}
	return runClient(t, e, stdin, env, bin, args...)
}

func gitFields(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func gitHost(t *testing.T, em *emulator.Emulator) string {
	t.Helper()
	return strings.TrimPrefix(em.URL(), "https://")
}

func TestGitCredentialHelper(t *testing.T) {
	e, em := vb365Env(t, nil)
	ours := gitHelper(t, e)
	in := "protocol=https\nhost=" + gitHost(t, em) + "\n\n"

	r := runGitCredential(t, e, []string{ours, fallbackHelper}, in, "fill")
	mustOK(t, r)
	f := gitFields(r.Stdout)
	tok1 := f["password"]
	if !em.Valid(tok1) || f["username"] != m365User || f["protocol"] != "https" || f["host"] != gitHost(t, em) {
		t.Fatalf("git credential fill: %q (token valid: %v)", r.Stdout, em.Valid(tok1))
	}
	// git before 2.41 drops password_expiry_utc from fill's output; ask the
	// binary itself.
	d := e.Run(in, "git", "get")
	mustOK(t, d)
	exp, err := strconv.ParseInt(gitFields(d.Stdout)["password_expiry_utc"], 10, 64)
	if err != nil || time.Until(time.Unix(exp, 0)) < 50*time.Minute || gitFields(d.Stdout)["password"] != tok1 {
		t.Errorf("direct get: %q", d.Stdout)
	}
	if v, ok := f["password_expiry_utc"]; ok && v != gitFields(d.Stdout)["password_expiry_utc"] {
		t.Errorf("git passed password_expiry_utc %q", v)
	}
	testenv.NoSecrets(t, "git stderr", r.Stderr, em, m365Password)

	// approve runs `store`: a no-op; the next fill is a cache hit.
	mustOK(t, runGitCredential(t, e, []string{ours}, r.Stdout+"\n", "approve"))
	r = runGitCredential(t, e, []string{ours}, in, "fill")
	mustOK(t, r)
	if gitFields(r.Stdout)["password"] != tok1 {
		t.Error("fill after approve gave another token")
	}
	if n := em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server counts %+v, want one token call", n)
	}

	// reject runs `erase`: the next fill renews the token (refresh grant).
	mustOK(t, runGitCredential(t, e, []string{ours}, r.Stdout+"\n", "reject"))
	r = runGitCredential(t, e, []string{ours}, in, "fill")
	mustOK(t, r)
	tok2 := gitFields(r.Stdout)["password"]
	if tok2 == tok1 || !em.Valid(tok2) {
		t.Errorf("fill after reject: same token %v, valid %v", tok2 == tok1, em.Valid(tok2))
	}
	if n := em.Counts(); n.Grants["refresh_token"] != 1 || n.Grants["password"] != 1 {
		t.Errorf("server counts %+v, want one password and one refresh grant", n)
	}

	// The token works as a bearer token at the protected resource.
	if code := testenv.Protected(t, em, tok2, ""); code != 200 {
		t.Errorf("protected resource with the git token: %d", code)
	}
}

func TestGitUnmatchedHostFallsThrough(t *testing.T) {
	e, em := vb365Env(t, nil)
	ours := gitHelper(t, e)
	for _, in := range []string{
		"protocol=https\nhost=git.example.org\n\n",
		"protocol=http\nhost=" + gitHost(t, em) + "\n\n",                // scheme differs
		"protocol=https\nhost=127.0.0.1:1\n\n",                          // port differs
		"protocol=https\nhost=" + gitHost(t, em) + "\nusername=eve\n\n", // another user
	} {
		r := runGitCredential(t, e, []string{ours, fallbackHelper}, in, "fill")
		mustOK(t, r)
		if f := gitFields(r.Stdout); f["password"] != "fallback-pw" {
			t.Errorf("input %q: git answered %q, want the fallback helper's password", in, r.Stdout)
		}
		if r.Stderr != "" {
			t.Errorf("input %q: stderr %q", in, r.Stderr)
		}
		// Our binary alone: nothing on stdout, exit 0.
		d := e.Run(in, "git", "get")
		if d.Exit != 0 || d.Stdout != "" || d.Stderr != "" {
			t.Errorf("input %q: direct get exit %d stdout %q stderr %q", in, d.Exit, d.Stdout, d.Stderr)
		}
	}
	if n := em.Counts(); n.TokenCalls != 0 {
		t.Errorf("unmatched hosts reached the server: %+v", n)
	}
}

// TestGitHelperDirect feeds the protocol to the binary as git would, for
// what git 2.39 cannot show: the authtype capability (git ≥ 2.46), store,
// unknown actions, ambiguous profiles, errors.
func TestGitHelperDirect(t *testing.T) {
	e, em := vb365Env(t, nil)
	host := gitHost(t, em)

	r := e.Run("capability[]=authtype\nprotocol=https\nhost="+host+"\nwwwauth[]=Bearer realm=\"veeam\"\n\n", "git", "get")
	mustOK(t, r)
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if lines[0] != "capability[]=authtype" {
		t.Errorf("first line %q, want capability[]=authtype", lines[0])
	}
	f := gitFields(r.Stdout)
	if f["authtype"] != "Bearer" || !em.Valid(f["credential"]) || f["password"] != f["credential"] || f["username"] != m365User {
		t.Errorf("authtype answer %q", r.Stdout)
	}

	// Without the capability: no authtype/credential.
	r = e.Run("protocol=https\nhost="+host+"\n", "git", "get")
	mustOK(t, r)
	if strings.Contains(r.Stdout, "authtype") || strings.Contains(r.Stdout, "credential=") {
		t.Errorf("answer without the capability: %q", r.Stdout)
	}

	// store and unknown actions consume their input and answer nothing.
	for _, action := range []string{"store", "frobnicate"} {
		r = e.Run("protocol=https\nhost="+host+"\nusername=x\npassword=y\n\n", "git", action)
		if r.Exit != 0 || r.Stdout != "" || r.Stderr != "" {
			t.Errorf("git %s: exit %d stdout %q stderr %q", action, r.Exit, r.Stdout, r.Stderr)
		}
	}

	// A malformed description is a usage error that does not quote it.
	r = e.Run("protocol=https\nsecret-line-without-equals\n\n", "git", "get")
	if r.Exit != 2 || r.Stdout != "" || strings.Contains(r.Stderr, "secret-line") {
		t.Errorf("malformed input: exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	if r := e.Run("", "git"); r.Exit != 2 {
		t.Errorf("git without action: exit %d", r.Exit)
	}

	// A rejected password: git gets nothing, our one line on stderr, exit 3.
	e.Vars["VB365_PASSWORD"] = "wrong-pw-Qq7"
	e.Run("", "logout")
	r = e.Run("protocol=https\nhost="+host+"\n\n", "git", "get")
	if r.Exit != 3 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("rejected: exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	testenv.NoSecrets(t, "stderr", r.Stderr, em, "wrong-pw-Qq7", m365Password)
}

func TestGitSeveralProfiles(t *testing.T) {
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vb365"})
	a := e.User("a", "vb365", "alice", "pw-alice-Z1")
	b := e.User("b", "vb365", "bob", "pw-bob-Z2")
	b.GitHosts = []string{"git-alias.test:8443"}
	e.Profiles(a, b)
	in := "protocol=https\nhost=" + gitHost(t, em) + "\n\n"

	r := e.Run(in, "git", "get")
	if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "matches profiles a, b") {
		t.Errorf("ambiguous: exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	// git goes on to the next helper after our error.
	g := runGitCredential(t, e, []string{gitHelper(t, e), fallbackHelper}, in, "fill")
	if g.Exit != 0 || gitFields(g.Stdout)["username"] != "fallback" || !strings.Contains(g.Stderr, "matches profiles a, b") {
		t.Errorf("git with an ambiguous host: exit %d stdout %q stderr %q", g.Exit, g.Stdout, g.Stderr)
	}
	// -p chooses; git's username chooses too.
	g = runGitCredential(t, e, []string{gitHelper(t, e, "-p", "b")}, in, "fill")
	mustOK(t, g)
	if f := gitFields(g.Stdout); f["username"] != "bob" || !em.Valid(f["password"]) {
		t.Errorf("-p b: %q", g.Stdout)
	}
	g = runGitCredential(t, e, []string{gitHelper(t, e)}, "protocol=https\nhost="+gitHost(t, em)+"\nusername=alice\n\n", "fill")
	mustOK(t, g)
	if f := gitFields(g.Stdout); f["username"] != "alice" || !em.Valid(f["password"]) {
		t.Errorf("username=alice: %q", g.Stdout)
	}
	// git_hosts: another name for the server maps to profile b.
	g = runGitCredential(t, e, []string{gitHelper(t, e)}, "protocol=https\nhost=git-alias.test:8443\n\n", "fill")
	mustOK(t, g)
	if f := gitFields(g.Stdout); f["username"] != "bob" || !em.Valid(f["password"]) {
		t.Errorf("git_hosts alias: %q", g.Stdout)
	}
	// default_profile chooses.
	e.Write(testenv.Config{DefaultProfile: "a", Profiles: []testenv.Profile{a, b}})
	r = e.Run(in, "git", "get")
	mustOK(t, r)
	if gitFields(r.Stdout)["username"] != "alice" {
		t.Errorf("default_profile a: %q", r.Stdout)
	}
}

// TestGitAuthtypeWithRealGit runs the authtype path through git itself when
// git is new enough to announce capability[]=authtype (2.46+).
func TestGitAuthtypeWithRealGit(t *testing.T) {
	bin := requireTool(t, "git")
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < 2 || major == 2 && minor < 46 {
		// Not a skip: the path is covered by TestGitHelperDirect, which
		// feeds the binary what git 2.46+ sends.
		t.Logf("%s does not pass capability[]=authtype to helpers (2.46+); TestGitHelperDirect covers the path", strings.TrimSpace(string(out)))
		return
	}
	e, em := vb365Env(t, nil)
	r := runGitCredential(t, e, []string{gitHelper(t, e)}, "capability[]=authtype\nprotocol=https\nhost="+gitHost(t, em)+"\n\n", "fill")
	mustOK(t, r)
	if f := gitFields(r.Stdout); f["authtype"] != "Bearer" || !em.Valid(f["credential"]) {
		t.Errorf("git fill with authtype: %q", r.Stdout)
	}
}

// ------------------------------------------------------------ curl and sh

func TestCurlConfigReachesProtectedResource(t *testing.T) {
	curl := requireTool(t, "curl")
	e, em := vb365Env(t, nil)
	target := em.URL() + em.ProtectedPath()
	script := `"$VCH" --config "$CFG" get --format curl | "$CURL" -sS -K - --cacert "$CA" -o body.json -w '%{http_code}' "$URL"`
	env := []string{"VCH=" + testenv.Binary(t), "CFG=" + e.ConfigPath, "CURL=" + curl, "CA=" + e.CAFile("vb365"), "URL=" + target}
	r := runClient(t, e, "", env, "sh", "-c", "set -e; "+script)
	if r.Exit != 0 || r.Stdout != "200" {
		t.Fatalf("curl: exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	body, err := os.ReadFile(filepath.Join(e.Dir, "body.json"))
	if err != nil || !strings.Contains(string(body), "Organizations") && !strings.Contains(string(body), "region") {
		t.Errorf("protected body %q (%v)", body, err)
	}
	// Without our header the resource is closed: the 200 above is ours.
	r = runClient(t, e, "", nil, curl, "-sS", "--cacert", e.CAFile("vb365"), "-o", os.DevNull, "-w", "%{http_code}", target)
	if r.Stdout != "401" {
		t.Errorf("curl without a token: %q", r.Stdout)
	}
	if n := em.Counts(); n.ProtectedOK != 1 {
		t.Errorf("server counts %+v, want one accepted protected call", n)
	}
}

// TestCurlQuoting feeds curl a config line for a token holding curl's
// special characters and checks the header curl sends, byte for byte.
func TestCurlQuoting(t *testing.T) {
	curl := requireTool(t, "curl")
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
	}))
	defer srv.Close()
	tok := `a"b\c d#e'f$g` + "`h"
	var cfg bytes.Buffer
	if err := protocol.Write(&cfg, protocol.FormatCurl, protocol.Credential{AccessToken: tok}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(curl, "-sS", "-K", "-", "-o", os.DevNull, srv.URL)
	cmd.Stdin = &cfg
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("curl: %v %s", err, out)
	}
	if got != "Bearer "+tok {
		t.Errorf("curl sent %q, want %q", got, "Bearer "+tok)
	}
}

func TestEnvFormatEval(t *testing.T) {
	requireTool(t, "sh")
	e, em := vb365Env(t, nil)
	script := `eval "$("$VCH" --config "$CFG" get --format env)" && printf '%s\n%s\n' "$VEEAM_ACCESS_TOKEN" "$VEEAM_TOKEN_EXPIRES_AT"`
	r := runClient(t, e, "", []string{"VCH=" + testenv.Binary(t), "CFG=" + e.ConfigPath}, "sh", "-c", script)
	if r.Exit != 0 {
		t.Fatalf("sh: exit %d stderr %q", r.Exit, r.Stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if len(lines) != 2 || !em.Valid(lines[0]) {
		t.Fatalf("eval set %q", r.Stdout)
	}
	exp, err := time.Parse(time.RFC3339, lines[1])
	if err != nil || time.Until(exp) < 50*time.Minute {
		t.Errorf("VEEAM_TOKEN_EXPIRES_AT %q (%v)", lines[1], err)
	}
}

// TestEnvQuotingUnderShells evals protocol's env output for tokens full of
// shell syntax in every POSIX shell on the machine: the variable must come
// back byte for byte and nothing may run.
func TestEnvQuotingUnderShells(t *testing.T) {
	tokens := []string{`plain-Token_1.2`, `a'b`, `$(touch pwned)`, "`touch pwned`", `x;touch pwned`, `"q" \ * ? ~ # & | < > { } [ ] !`, `'`, `''\''`, "ünï\u00a0cødé"}
	shells := []string{"sh"}
	for _, s := range []string{"bash", "dash", "zsh", "busybox"} {
		if _, err := exec.LookPath(s); err == nil {
			shells = append(shells, s)
		}
	}
	requireTool(t, "sh")
	dir := t.TempDir()
	for _, sh := range shells {
		for _, tok := range tokens {
			var b bytes.Buffer
			exp := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
			if err := protocol.Write(&b, protocol.FormatEnv, protocol.Credential{AccessToken: tok, ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
			args := []string{"-c", `eval "$1" && printf '%s|%s' "$VEEAM_ACCESS_TOKEN" "$VEEAM_TOKEN_EXPIRES_AT"`, "x", b.String()}
			if sh == "busybox" {
				args = append([]string{"sh"}, args...)
			}
			cmd := exec.Command(sh, args...)
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil || string(out) != tok+"|2026-11-23T08:00:00Z" {
				t.Errorf("%s: token %q came back %q (%v)", sh, tok, out, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Fatalf("%s ran code from a token", sh)
		}
	}
}

// git run as `-p NAME git` for a host that is not NAME's: a clear error,
// never another profile's token (also when that token is cached).
func TestGitProfileFlagForAnotherHost(t *testing.T) {
	e := testenv.New(t)
	m365 := e.Emulator(emulator.Options{Product: "vb365"})
	e.Emulator(emulator.Options{Product: "vbazure"})
	e.Profiles(e.User("m365", "vb365", "alice", "pw-alice-Z1"), e.User("azure", "vbazure", "bob", "pw-bob-Z2"))
	mustOK(t, e.Run("", "-p", "azure", "get", "--no-stdin")) // azure's token is cached: the front could answer it
	in := "protocol=https\nhost=" + gitHost(t, m365) + "\n\n"
	r := e.Run(in, "-p", "azure", "git", "get")
	if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, `profile "azure"`) || !strings.Contains(r.Stderr, gitHost(t, m365)) ||
		strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	r = e.Run(in, "-p", "m365", "git", "get")
	mustOK(t, r)
	if f := gitFields(r.Stdout); f["username"] != "alice" || !m365.Valid(f["password"]) {
		t.Errorf("-p m365: %q", r.Stdout)
	}
}
