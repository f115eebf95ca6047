package main

// A fault that needs processes: one killed while it holds the lock. The
// flow's faults (retries, Retry-After, garbage, dropped and hung
// connections, corrupt items) are tested in process in package helper.

import (
	"context"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// A process SIGKILLed while it holds the lock in the middle of a grant
// leaves no lock that blocks: the kernel drops the flock with the process.
func TestKilledMidGrantReleasesLock(t *testing.T) {
	e, em := vb365Env(t, nil) // default timeout 30s: a stuck lock would show
	em.HangNext(1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.Command(ctx, "get")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()
	// Wait until the server saw the grant: the process is inside it, lock held.
	deadline := time.Now().Add(30 * time.Second)
	for em.Counts().TokenCalls < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the process never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Prove the lock is held right now: another process must wait.
	key := cache.Key("vb365", em.URL(), m365User, "password", "", "")
	lctx, lcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	if unlock, err := cache.NewFileLocker(e.CacheDir).Lock(lctx, key); err == nil {
		unlock()
		t.Fatal("the lock is free while the process is inside the grant")
	}
	lcancel()
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-waitDone
	if st := cmd.ProcessState; st == nil || st.Success() {
		t.Fatalf("the killed process state: %v", st)
	}
	// A stale lock would make this call wait out the 30s timeout and fail.
	r := e.Run("", "get")
	mustOK(t, r)
	if a := decode(t, r); a.Source != "grant" || !em.Valid(a.AccessToken) {
		t.Errorf("answer %+v", a)
	}
	// The lock file itself stays (removing it would be racy); it must not
	// hold anything back either: a third call answers from the cache.
	if a := decode(t, e.Run("", "get")); a.Source != "cache" {
		t.Errorf("third call source %s", a.Source)
	}
}
