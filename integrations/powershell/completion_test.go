package powershell_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// `veeam-credential-helper completion powershell` parses as PowerShell.
func TestCompletionScriptParses(t *testing.T) {
	node, dir := parser(t)
	cmd := exec.Command(testenv.Binary(t), "completion", "powershell")
	cmd.Env = append(os.Environ(), testenv.RaceEnv()...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "completion.ps1")
	if err := os.WriteFile(script, out, 0o600); err != nil {
		t.Fatal(err)
	}
	res, code := runParse(t, node, dir, script)
	if code != 0 || !strings.Contains(res, "0 with syntax errors") || !strings.Contains(string(out), "Register-ArgumentCompleter") {
		t.Fatalf("exit %d:\n%s", code, res)
	}
}
