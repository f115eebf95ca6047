package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// A plain-http git remote on a host a scheme-less git_hosts entry names
// (a mistyped remote, a submodule URL) gets no token from real git: the
// token would cross the network in cleartext to whoever answers 401.
func TestGitPlainHTTPRemoteGetsNoToken(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer plain.Close()
	host := strings.TrimPrefix(plain.URL, "http://")
	e, _ := vb365Env(t, func(p *testenv.Profile) { p.GitHosts = []string{host} })
	mustOK(t, e.Run("", "get")) // a token is cached: the front would answer it

	// git's helper protocol, front and engine: no answer, exit 0.
	for _, bin := range []string{testenv.Binary(t), testenv.Engine(t)} {
		r := e.RunOf(context.Background(), bin, "protocol=http\nhost="+host+"\n\n", "git", "get")
		if r.Exit != 0 || r.Stdout != "" {
			t.Fatalf("%s: git get over http: %+v", bin, r)
		}
	}
	// The same entry serves https.
	if r := e.Run("protocol=https\nhost="+host+"\n\n", "git", "get"); r.Exit != 0 || !strings.Contains(r.Stdout, "password=vb365-at-") {
		t.Fatalf("git get over https: %+v", r)
	}

	// Real git against the plain-http server.
	bin := requireTool(t, "git")
	env := []string{"GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_ASKPASS=", "SSH_ASKPASS="}
	r := runClient(t, e, "", env, bin, "-c", "credential.helper=", "-c", "credential.helper="+gitHelper(t, e), "ls-remote", plain.URL+"/repo.git")
	if r.Exit == 0 {
		t.Fatalf("git ls-remote succeeded against a server that only answers 401: %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) == 0 {
		t.Fatal("git never reached the plain-http server")
	}
	for _, a := range auth {
		if a != "" {
			t.Fatalf("git sent %q over plain http", a)
		}
	}
}

// A configuration file another user could write is refused on every path,
// the front's cache hit included: exit 2, one line with the fix.
func TestWritableConfigRefused(t *testing.T) {
	e, em := vb365Env(t, nil)
	mustOK(t, e.Run("", "get")) // warm: the front would answer a hit
	if err := os.Chmod(e.ConfigPath, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"get", "--format", "token"}},
		{"", []string{"exec-credential"}},
		{"protocol=https\nhost=" + gitHost(t, em) + "\n\n", []string{"git", "get"}},
		{"", []string{"status"}},
		{"", []string{"logout"}},
	} {
		r := e.Run(tc.stdin, tc.args...)
		if r.Exit != 2 || strings.Contains(r.Stdout, "vb365-at-") || strings.Count(r.Stderr, "\n") != 1 ||
			!strings.Contains(r.Stderr, e.ConfigPath+" is writable by group or others") || !strings.Contains(r.Stderr, "chmod go-w "+e.ConfigPath) {
			t.Errorf("%v with a world-writable config: %+v", tc.args, r)
		}
	}
}

// A mistyped passphrase is refused before anything is written, with the
// next step; logout needs no passphrase; `logout --all` is the reset that
// makes the cache usable again.
func TestWrongPassphraseRecovery(t *testing.T) {
	e, _ := vb365Env(t, nil)
	mustOK(t, e.Run("", "get"))
	right := e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"]

	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = "mistyped"
	r := e.Run("", "get", "--format", "token")
	if r.Exit != 6 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "wrong passphrase") ||
		!strings.Contains(r.Stderr, "logout --all") || strings.Contains(r.Stderr, "mistyped") {
		t.Fatalf("wrong passphrase: %+v", r)
	}
	// One profile's logout without any passphrase.
	delete(e.Vars, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE")
	mustOK(t, e.Run("", "logout"))
	// The reset, with the passphrase the user now wants.
	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = "mistyped"
	mustOK(t, e.Run("", "logout", "--all"))
	mustOK(t, e.Run("", "get"))
	// Now the old passphrase is the wrong one.
	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = right
	if r := e.Run("", "get"); r.Exit != 6 {
		t.Fatalf("the former passphrase after the reset: %+v", r)
	}
}
