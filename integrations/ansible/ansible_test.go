// Package ansible_test runs the veeam_tools.credential_helper collection
// under the real ansible-core against the emulator. The collection itself
// lives in ansible_collections/ next to this file (ANSIBLE_COLLECTIONS_PATH
// points here); this Go file is not part of it.
package ansible_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	goodUser     = `corp\svc-backup`
	goodPassword = "pw-Ansible-good-7781"
	badUser      = `corp\svc-other`
	badPassword  = "pw-Ansible-right-5523"
	wrongPasswd  = "pw-Ansible-WRONG-0042"
)

// requireTool returns the path of a client binary. Outside CI a missing
// tool skips the test; in CI (CI=true) it fails it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" && os.Getenv("CI") != "false" {
		t.Fatalf("%s is required in CI (.ci/run installs ansible-core): %v", name, err)
	}
	t.Skipf("%s not installed (apt-get install ansible-core); this test must run in CI", name)
	return ""
}

func collectionsPath(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	if _, err := os.Stat(filepath.Join(dir, "ansible_collections", "veeam_tools", "credential_helper", "galaxy.yml")); err != nil {
		t.Fatal(err)
	}
	return dir
}

type fixture struct {
	env     *testenv.Env
	em      *emulator.Emulator
	argvLog string
	dir     string
}

// newFixture is a throwaway home with a good profile (m365) and a profile
// whose password is wrong (bad), both on one TLS emulator, and a wrapper
// around the real binary that records its argv (to prove no secret is there).
func newFixture(t *testing.T) *fixture {
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vb365"})
	em.AddUser(goodUser, goodPassword)
	em.AddUser(badUser, badPassword)
	e.Vars["VB365_PASSWORD"] = goodPassword
	e.Vars["OTHER_PASSWORD"] = wrongPasswd
	good := e.UserProfile("m365", "vb365", goodUser, "VB365_PASSWORD")
	bad := e.UserProfile("bad", "vb365", badUser, "OTHER_PASSWORD")
	e.Write(testenv.Config{DefaultProfile: "m365", Profiles: []testenv.Profile{good, bad}})

	dir := t.TempDir()
	f := &fixture{env: e, em: em, dir: dir, argvLog: filepath.Join(dir, "argv.log")}
	wrapper := filepath.Join(dir, "veeam-credential-helper")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %q\nexec %q \"$@\"\n", f.argvLog, testenv.Binary(t))
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	e.Vars["VEEAM_CREDENTIAL_HELPER_BIN"] = wrapper
	return f
}

type run struct {
	out  string
	exit int
}

// ansible runs an Ansible command with the fixture's environment, the
// collection on ANSIBLE_COLLECTIONS_PATH and Ansible's own state in temp dirs.
func (f *fixture) ansible(t *testing.T, tool string, args ...string) run {
	t.Helper()
	bin := requireTool(t, tool)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = f.dir
	ansibleHome := filepath.Join(f.dir, "ansible-home")
	cmd.Env = append(f.env.Environ(),
		"ANSIBLE_COLLECTIONS_PATH="+collectionsPath(t),
		"ANSIBLE_HOME="+ansibleHome,
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(ansibleHome, "tmp"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(ansibleHome, "remote-tmp"),
		"ANSIBLE_RETRY_FILES_ENABLED=false",
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_FORCE_COLOR=0",
		"ANSIBLE_HOST_KEY_CHECKING=false",
		"ANSIBLE_PYTHON_INTERPRETER=auto_silent",
		"PYTHONDONTWRITEBYTECODE=1", // no __pycache__ inside the collection
		"LC_ALL=C.UTF-8", "LANG=C.UTF-8",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r := run{out: out.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, r.out)
	}
	return r
}

func (f *fixture) playbook(t *testing.T, name, tasks string) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	text := "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + tasks
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noSecrets fails when out holds a password, the passphrase, or anything
// shaped like a token the emulator issued.
func (f *fixture) noSecrets(t *testing.T, what, out string) {
	t.Helper()
	testenv.NoSecrets(t, what, out, f.em, goodPassword, badPassword, wrongPasswd, testenv.Passphrase)
	if strings.Contains(out, "Traceback") {
		t.Errorf("%s contains a Python traceback:\n%s", what, out)
	}
}

func TestPlaybookURIWithLookup(t *testing.T) {
	f := newFixture(t)
	url := f.em.URL() + f.em.ProtectedPath()
	pb := f.playbook(t, "ok.yml", fmt.Sprintf(`    - name: header format
      ansible.builtin.uri:
        url: %[1]q
        ca_path: %[2]q
        headers:
          Authorization: "{{ lookup('veeam_tools.credential_helper.token', profile='m365', format='header') }}"
      register: r1
    - ansible.builtin.assert:
        that: [r1.status == 200]
    - name: token format (default), a term as the profile, min_valid
      ansible.builtin.uri:
        url: %[1]q
        ca_path: %[2]q
        headers:
          Authorization: "Bearer {{ lookup('veeam_tools.credential_helper.token', 'm365', min_valid='5m') }}"
      register: r2
    - ansible.builtin.assert:
        that: [r2.status == 200]
    - name: json format with the default profile
      ansible.builtin.set_fact:
        answer: "{{ lookup('veeam_tools.credential_helper.token', format='json') }}"
      no_log: true
    - ansible.builtin.assert:
        that:
          - answer.profile == 'm365'
          - answer.product == 'vb365'
          - answer.token_type == 'Bearer'
          - answer.source == 'cache'
          - answer.access_token | length > 20
          - answer.expires_at is string
        quiet: true
`, url, f.env.CAFile("vb365")))
	r := f.ansible(t, "ansible-playbook", "-i", "localhost,", pb)
	if r.exit != 0 {
		t.Fatalf("ansible-playbook exit %d:\n%s", r.exit, r.out)
	}
	if !strings.Contains(r.out, "failed=0") || !strings.Contains(r.out, "ok=6") {
		t.Errorf("recap:\n%s", r.out)
	}
	f.noSecrets(t, "playbook output", r.out)

	n := f.em.Counts()
	if n.ProtectedOK != 2 || n.ProtectedDenied != 0 {
		t.Errorf("protected resource: %d ok, %d denied; want 2 ok", n.ProtectedOK, n.ProtectedDenied)
	}
	// Three lookups, one login: the rest came from the helper's cache.
	if n.Grants["password"] != 1 || n.TokenCalls != 1 {
		t.Errorf("server counts %+v, want exactly one password grant", n)
	}
	// The token the playbook used is the one the helper cached and the server accepts.
	res := f.env.Run("", "get", "--format", "token")
	if res.Exit != 0 || !f.em.Valid(strings.TrimSpace(res.Stdout)) {
		t.Errorf("cached token: exit %d, valid=%v", res.Exit, f.em.Valid(strings.TrimSpace(res.Stdout)))
	}

	argv, err := os.ReadFile(f.argvLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(argv)), "\n")
	if len(lines) != 3 {
		t.Errorf("helper ran %d times, want 3:\n%s", len(lines), argv)
	}
	for _, l := range lines {
		if l != "get --format json" {
			t.Errorf("helper argv %q, want the request on stdin only", l)
		}
	}
	f.noSecrets(t, "helper argv", string(argv))
}

func TestPlaybookFailingProfile(t *testing.T) {
	f := newFixture(t)
	url := f.em.URL() + f.em.ProtectedPath()
	pb := f.playbook(t, "bad.yml", fmt.Sprintf(`    - name: call with the bad profile
      ansible.builtin.uri:
        url: %q
        ca_path: %q
        headers:
          Authorization: "{{ lookup('veeam_tools.credential_helper.token', profile='bad', format='header') }}"
`, url, f.env.CAFile("vb365")))
	r := f.ansible(t, "ansible-playbook", "-i", "localhost,", pb)
	if r.exit == 0 {
		t.Fatalf("playbook succeeded with a wrong password:\n%s", r.out)
	}
	// The helper's own message for this profile, as the JSON protocol gives it.
	direct := f.env.Run(`{"profile":"bad"}`, "get", "--format", "json")
	var answer struct {
		Error struct {
			Message  string `json:"message"`
			ExitCode int    `json:"exit_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(direct.Stdout), &answer); err != nil || direct.Exit != 3 || answer.Error.Message == "" {
		t.Fatalf("helper run directly: exit %d, %v, stdout %q", direct.Exit, err, direct.Stdout)
	}
	want := "veeam_tools.credential_helper.token: " + answer.Error.Message + " (exit 3: credentials rejected)"
	// On one line of the task's failure: JSON-escaped in ansible-core's
	// default callback up to 2.18 ({"msg": "..."}), plain text in later ones.
	quoted, _ := json.Marshal(want)
	if !strings.Contains(r.out, strings.Trim(string(quoted), `"`)) && !strings.Contains(r.out, want) {
		t.Errorf("output lacks %s:\n%s", quoted, r.out)
	}
	if !strings.Contains(r.out, "failed=1") {
		t.Errorf("recap:\n%s", r.out)
	}
	f.noSecrets(t, "playbook output", r.out)
	n := f.em.Counts()
	if n.FailedGrants["password"] != 2 || n.ProtectedOK != 0 {
		t.Errorf("server counts %+v", n)
	}
}

func TestPlaybookMissingBinary(t *testing.T) {
	f := newFixture(t)
	f.env.Vars["VEEAM_CREDENTIAL_HELPER_BIN"] = filepath.Join(f.dir, "no-such-helper")
	pb := f.playbook(t, "nobin.yml", `    - ansible.builtin.debug:
        msg: "{{ lookup('veeam_tools.credential_helper.token', profile='m365') | length }}"
`)
	r := f.ansible(t, "ansible-playbook", "-i", "localhost,", pb)
	if r.exit == 0 || !strings.Contains(r.out, "cannot run") || !strings.Contains(r.out, "no-such-helper") {
		t.Errorf("exit %d:\n%s", r.exit, r.out)
	}
	f.noSecrets(t, "playbook output", r.out)
}

func TestAnsibleDoc(t *testing.T) {
	f := newFixture(t)
	r := f.ansible(t, "ansible-doc", "-t", "lookup", "veeam_tools.credential_helper.token")
	if r.exit != 0 {
		t.Fatalf("ansible-doc exit %d:\n%s", r.exit, r.out)
	}
	for _, want := range []string{"profile", "config", "format", "min_valid", "binary", "VEEAM_CREDENTIAL_HELPER_BIN", "EXAMPLES", "RETURN"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("ansible-doc output lacks %q:\n%s", want, r.out)
		}
	}
	l := f.ansible(t, "ansible-doc", "-t", "lookup", "-l", "veeam_tools.credential_helper")
	if l.exit != 0 || !strings.Contains(l.out, "veeam_tools.credential_helper.token") {
		t.Errorf("ansible-doc -l exit %d:\n%s", l.exit, l.out)
	}
}
