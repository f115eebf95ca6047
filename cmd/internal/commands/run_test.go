package commands

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

const (
	runUser     = `corp\svc-run`
	runPassword = "pw-run-in-process-0001"
)

// inProcess is a home with one vb365 profile "m365" and a function that
// runs the engine in this process on it, with env for what getenv answers.
func inProcess(t *testing.T) (*emulator.Emulator, func(env map[string]string, stdin string, args ...string) (int, string, string)) {
	t.Helper()
	e := newHome(t)
	em := e.M365Profile(emulator.Options{}, runUser, runPassword, "VB365_RUN_PASSWORD", nil)
	return em, func(env map[string]string, stdin string, args ...string) (int, string, string) {
		for k, v := range env {
			e.Vars[k] = v
			defer delete(e.Vars, k)
		}
		r := e.Run(stdin, args...)
		return r.Exit, r.Stdout, r.Stderr
	}
}

func TestRunInProcess(t *testing.T) {
	em, run := inProcess(t)
	var a struct {
		AccessToken string `json:"access_token"`
		Source      string `json:"source"`
	}
	code, out, errs := run(nil, "", "get")
	if err := json.Unmarshal([]byte(out), &a); code != 0 || errs != "" || err != nil || a.Source != "grant" || !em.Valid(a.AccessToken) {
		t.Fatalf("get: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// Each run parses its own flags: --format token does not stay for the next run.
	if code, out, _ := run(nil, "", "get", "--format", "token"); code != 0 || out != a.AccessToken+"\n" {
		t.Fatalf("get --format token: exit %d, %q", code, out)
	}
	if code, out, _ := run(nil, "", "get"); code != 0 || !strings.HasPrefix(out, `{"profile":"m365"`) || !strings.Contains(out, `"source":"cache"`) {
		t.Fatalf("get after --format token: exit %d, %q", code, out)
	}
	const v1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	if code, out, _ := run(map[string]string{"KUBERNETES_EXEC_INFO": v1}, "", "exec-credential"); code != 0 || !strings.Contains(out, `"token":"`+a.AccessToken+`"`) {
		t.Fatalf("exec-credential: exit %d, %q", code, out)
	}
	host := strings.TrimPrefix(em.URL(), "https://")
	if code, out, _ := run(nil, "protocol=https\nhost="+host+"\n\n", "git", "get"); code != 0 || !strings.Contains(out, "username="+runUser+"\npassword="+a.AccessToken+"\n") {
		t.Fatalf("git get: exit %d, %q", code, out)
	}
	if n := em.Counts().Grants["password"]; n != 1 {
		t.Fatalf("%d password grants for one grant and four hits", n)
	}
}

func TestRunInProcessErrors(t *testing.T) {
	_, run := inProcess(t)
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		exit   int
		stdout string // prefix
		stderr string // substring of the one line
	}{
		{"help", nil, []string{"--help"}, 0, "Usage: veeam-credential-helper", ""},
		{"command help", nil, []string{"get", "-h"}, 0, "Usage: veeam-credential-helper get [flags]", ""},
		{"no command", nil, nil, 2, "", "Usage: veeam-credential-helper"},
		{"unknown command", nil, []string{"bogus"}, 2, "", `unknown command "bogus"`},
		{"unknown flag", nil, []string{"get", "--bogus"}, 2, "", "get: flag provided but not defined: -bogus"},
		{"unknown profile, json", map[string]string{"VEEAM_PROFILE": "nope"}, []string{"get"}, 2, `{"error":{"code":"invalid_configuration"`, `"nope"`},
		{"unknown profile, token", nil, []string{"-p", "nope", "get", "--format", "token"}, 2, "", `"nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(tc.env, "", tc.args...)
			if code != tc.exit || !strings.HasPrefix(out, tc.stdout) || !strings.Contains(errs, tc.stderr) ||
				tc.exit != 0 && tc.stdout == "" && out != "" || tc.exit == 0 && errs != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
			if tc.name != "no command" && strings.Count(errs, "\n") > 1 {
				t.Fatalf("more than one line on stderr: %q", errs)
			}
		})
	}
}
