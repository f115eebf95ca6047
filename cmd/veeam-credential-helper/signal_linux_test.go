package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// The SIGINT/SIGTERM handler is installed lazily (not on a cache hit), but a
// process waiting for another one's login must still end cleanly on
// SIGTERM: one line on stderr and an exit code, not death by the signal.
func TestSIGTERMWhileWaitingForTheLock(t *testing.T) {
	e, em := vb365Env(t, nil)
	locks := filepath.Join(e.CacheDir, "locks")
	if err := os.MkdirAll(locks, 0o700); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(locks, cache.Key("vb365", em.URL(), m365User, "password", "", "")+".lock")
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.Command(ctx, "get", "--format", "token")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the process has the lock file open: it is in the lock wait.
	for !holdsOpen(cmd.Process.Pid, lockPath) {
		if ctx.Err() != nil {
			t.Fatal("the process never opened the lock file")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, err := terminate(t, cmd); code <= 0 {
		t.Fatalf("want a clean non-zero exit, got %v (stderr %q)", err, stderr.String())
	}
	if stdout.Len() != 0 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 || !strings.Contains(stderr.String(), "veeam-credential-helper:") {
		t.Fatalf("stdout=%q stderr=%q", stdout.String(), stderr.String())
	}
	if n := em.Counts().TokenCalls; n != 0 {
		t.Fatalf("%d token calls while the lock was held", n)
	}
}

func holdsOpen(pid int, path string) bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, ent := range ents {
		if l, err := os.Readlink(filepath.Join(dir, ent.Name())); err == nil && l == path {
			return true
		}
	}
	return false
}
