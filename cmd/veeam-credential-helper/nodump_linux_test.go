//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// The engine makes itself non-dumpable while it holds secrets: no core
// file, no ptrace or /proc/PID/mem by other processes of the user. The
// kernel shows it as /proc/PID/environ (and mem) owned by root, which a test can see when
// the engine runs as an ordinary user (here uid 54321, started by root);
// the password_command it starts (dumpable) is the control.
func TestEngineNotDumpable(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the engine as another user")
	}
	// Not t.TempDir: its parent is 0700, closed to the other user.
	dir, err := os.MkdirTemp("", "vch-nodump-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var engine string
	for _, src := range []string{testenv.Binary(t), testenv.Engine(t)} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
		engine = dst
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.toml") // root's, 0644: trusted and readable
	text := fmt.Sprintf("[profiles.p]\nproduct = \"vb365\"\nurl = \"https://127.0.0.1:9\"\nusername = \"u\"\ntimeout = \"60s\"\npassword_command = [\"sleep\", \"60\"]\n\n[cache]\nbackend = \"file\"\ndir = %q\n", filepath.Join(home, "cache"))
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(engine, "--config", config, "get", "--format", "token")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE=p", "GORACE=atexit_sleep_ms=0"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 54321, Gid: 54321}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	// Wait for the engine to be inside the call: its password_command runs.
	child := 0
	for i := 0; i < 1000 && child == 0; i++ {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the engine ended early: %v: %s", err, stderr.String())
		default:
		}
		child = childOf(cmd.Process.Pid)
		time.Sleep(10 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("password_command never started")
	}
	defer syscall.Kill(-child, syscall.SIGKILL)
	if uid := procOwner(t, child); uid != 54321 {
		t.Fatalf("control: /proc of the (dumpable) password_command is owned by uid %d, want 54321", uid)
	}
	if uid := procOwner(t, cmd.Process.Pid); uid != 0 {
		t.Fatalf("/proc of the engine is owned by uid %d: it is dumpable", uid)
	}
}

func procOwner(t *testing.T, pid int) int {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/"+strconv.Itoa(pid)+"/environ", &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid)
}

// childOf returns a child process of pid, or 0.
func childOf(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			return n
		}
	}
	return 0
}
