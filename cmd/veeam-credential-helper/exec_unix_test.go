//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// exec runs COMMAND with the credential in its environment and exits with
// COMMAND's status.
func TestExecPassesEnvironmentAndExitStatus(t *testing.T) {
	e, em := vb365Env(t, nil)
	e.Vars["VEEAM_API_URL"] = "https://stale.example"
	r := e.Run("", "exec", "--", "sh", "-c", `printf '%s|%s|%s|%s' "$VEEAM_ACCESS_TOKEN" "$VEEAM_TOKEN_EXPIRES_AT" "$VEEAM_API_URL" "$VEEAM_PROFILE"; echo to-stderr >&2; exit 7`)
	if r.Exit != 7 || r.Stderr != "to-stderr\n" {
		t.Fatalf("exit %d stderr %q", r.Exit, r.Stderr)
	}
	f := strings.Split(r.Stdout, "|")
	if len(f) != 4 || !em.Valid(f[0]) || f[2] != em.URL() || f[3] != "m365" {
		t.Fatalf("COMMAND saw %q", r.Stdout)
	}
	if exp, err := time.Parse(time.RFC3339, f[1]); err != nil || time.Until(exp) < 30*time.Minute {
		t.Errorf("VEEAM_TOKEN_EXPIRES_AT %q: %v", f[1], err)
	}
	// stdin reaches COMMAND; status 0 is 0; the token is the cached one.
	r = e.Run("line from stdin\n", "exec", "-p", "m365", "--min-valid", "5m", "--", "sh", "-c", `read l; echo "$l"; printf %s "$VEEAM_ACCESS_TOKEN"`)
	mustOK(t, r)
	if got := strings.SplitN(r.Stdout, "\n", 2); len(got) != 2 || got[0] != "line from stdin" || got[1] != f[0] {
		t.Errorf("second run: %q (first token %q)", r.Stdout, f[0])
	}
	if n := em.Counts().TokenCalls; n != 1 {
		t.Errorf("%d token calls, want 1", n)
	}
}

// No credential: COMMAND does not start, the helper says why with its exit
// code. A COMMAND that does not exist costs no login.
func TestExecDoesNotStartCommandWithoutCredential(t *testing.T) {
	e, em := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	marker := filepath.Join(e.Dir, "started")
	r := e.Run("", "exec", "--", "touch", marker)
	if r.Exit != 5 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "VB365_PASSWORD") {
		t.Fatalf("exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("COMMAND ran: %v", err)
	}
	e.Vars["VB365_PASSWORD"] = m365Password
	r = e.Run("", "exec", "--", "no-such-command-vch")
	if r.Exit != 127 || !strings.Contains(r.Stderr, "no-such-command-vch") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("missing COMMAND: exit %d stderr %q", r.Exit, r.Stderr)
	}
	if r = e.Run("", "exec"); r.Exit != 2 || !strings.Contains(r.Stderr, "exec needs a command") {
		t.Errorf("no COMMAND: exit %d stderr %q", r.Exit, r.Stderr)
	}
	if n := em.Counts().TokenCalls; n != 0 {
		t.Errorf("%d token calls", n)
	}
}

// A signal sent to the helper's PID reaches COMMAND, whose status is then
// the helper's.
func TestExecForwardsSignals(t *testing.T) {
	e, _ := vb365Env(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.Command(ctx, "exec", "--", "sh", "-c", `trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("COMMAND did not start: %q %v", line, err)
	}
	if code, err := terminate(t, cmd); code != 42 {
		t.Fatalf("after SIGTERM: %v", err)
	}
}

// terminate sends SIGTERM to cmd's process and waits for it: its exit code
// (-1 when the signal killed it or it could not be waited for) and Wait's
// error.
func terminate(t *testing.T, cmd *exec.Cmd) (int, error) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), err
	case err != nil:
		return -1, err
	}
	return 0, nil
}

// What the documents promise a `set -e` script: it stops where no token
// can be had, with the helper's exit code, whether it assigns get's env
// lines first or runs the work through exec.
func TestSetEScriptsStop(t *testing.T) {
	e, _ := vb365Env(t, nil)
	delete(e.Vars, "VB365_PASSWORD")
	bin := testenv.Binary(t)
	for _, script := range []string{
		`set -e; vars=$("$0" get --format env --no-stdin); eval "$vars"; echo reached`,
		`set -e; "$0" exec -- sh -c 'echo reached'; echo reached`,
	} {
		cmd := exec.Command("sh", "-c", script, bin)
		cmd.Env = e.Environ()
		out, err := cmd.Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 5 || strings.Contains(string(out), "reached") {
			t.Errorf("%s: %v %q", script, err, out)
		}
	}
}
