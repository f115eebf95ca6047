package protocol

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGitCompat runs the installed git (when there is one) against a helper
// script whose answer WriteGit produced and whose input ReadGit parses.
func TestGitCompat(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	var answer bytes.Buffer
	if err := WriteGit(&answer, GitAnswer{Username: `corp\svc`, Password: secretTok, PasswordExpiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "answer"), answer.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "helper.sh")
	body := "#!" + sh + "\ncat > \"" + dir + "/input\"\n[ \"$1\" = get ] && cat \"" + dir + "/answer\"\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gitBin, "-c", "credential.helper=", "-c", "credential.helper=!"+script, "credential", "fill")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	cmd.Stdin = strings.NewReader("protocol=https\nhost=vb365.example.com:4443\npath=repo.git\n\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git credential fill: %v", err)
	}
	got, err := ReadGit(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("ReadGit(git's output %q): %v", out, err)
	}
	if got.Username != `corp\svc` || got.Password != secretTok || got.Host != "vb365.example.com:4443" {
		t.Fatalf("git answered %+v", got)
	}
	in, err := os.ReadFile(filepath.Join(dir, "input"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ReadGit(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("ReadGit(git's helper input %q): %v", in, err)
	}
	if req.Protocol != "https" || req.Host != "vb365.example.com:4443" {
		t.Fatalf("helper got %+v from %q", req, in)
	}
}
