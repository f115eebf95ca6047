package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv/child"
)

const childEnv = "VCH_CACHE_TEST_CHILD"

// TestChildProcess is the body of the child processes the lock tests start
// (the test binary re-executed); it does nothing in a normal run.
func TestChildProcess(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("helper process for the lock tests")
	}
	dir, key := os.Getenv("VCH_DIR"), os.Getenv("VCH_KEY")
	l := NewFileLocker(dir)
	switch mode {
	case "hold":
		// Take the lock, say so, and sleep until killed.
		if _, err := l.Lock(context.Background(), key); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		os.Exit(3)
	case "count":
		n, _ := strconv.Atoi(os.Getenv("VCH_N"))
		for range n {
			unlock, err := l.Lock(context.Background(), key)
			if err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			if err := criticalSection(dir); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			unlock()
		}
		os.Exit(0)
	case "keyctl-get":
		if err := joinAnonymousSessionKeyring(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		st, err := Open(Config{Backend: "keyctl", ServiceName: os.Getenv("VCH_SERVICE")})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		b, err := st.Get(key)
		fmt.Printf("value=%s err=%v\n", b, err)
		os.Exit(0)
	}
	t.Fatalf("unknown mode %q", mode)
}

// criticalSection fails if anyone else is inside: it creates a marker with
// O_EXCL, reads-modifies-writes a counter slowly, and removes the marker.
func criticalSection(dir string) error {
	marker := filepath.Join(dir, "inside")
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("mutual exclusion violated: %v", err)
	}
	f.Close()
	counter := filepath.Join(dir, "counter")
	b, _ := os.ReadFile(counter)
	n, _ := strconv.Atoi(string(b))
	time.Sleep(time.Millisecond)
	if err := os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o600); err != nil {
		return err
	}
	return os.Remove(marker)
}

func TestLockGoroutines(t *testing.T) {
	dir := t.TempDir()
	l := NewFileLocker(dir)
	const workers, n = 4, 25
	var inside atomic.Int32
	counter := 0
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				unlock, err := l.Lock(context.Background(), "k")
				if err != nil {
					errs <- err
					return
				}
				if inside.Add(1) != 1 {
					errs <- errors.New("two goroutines inside")
				}
				c := counter
				time.Sleep(100 * time.Microsecond)
				counter = c + 1
				inside.Add(-1)
				unlock()
				unlock() // idempotent
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if counter != workers*n {
		t.Errorf("counter = %d, want %d", counter, workers*n)
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, filepath.Join(dir, "locks")); m != 0o700 {
			t.Errorf("locks dir mode %#o", m)
		}
		if m := mode(t, filepath.Join(dir, "locks", "k.lock")); m != 0o600 {
			t.Errorf("lock file mode %#o", m)
		}
	}
}

func TestLockProcesses(t *testing.T) {
	dir := t.TempDir()
	const procs, n = 3, 20
	var cmds []*exec.Cmd
	for range procs {
		cmd := child.Command(childEnv, "count", "VCH_DIR="+dir, "VCH_KEY=k", "VCH_N="+strconv.Itoa(n))
		cmd.Stdout = os.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "counter"))
	if string(b) != strconv.Itoa(procs*n) {
		t.Errorf("counter = %q, want %d (lost updates: no mutual exclusion)", b, procs*n)
	}
}

// startHolder starts a child that holds key's lock; it returns once the
// child says it holds it.
func startHolder(t *testing.T, dir, key string) *exec.Cmd {
	t.Helper()
	cmd := child.Command(childEnv, "hold", "VCH_DIR="+dir, "VCH_KEY="+key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	return cmd
}

func TestLockKilledHolder(t *testing.T) {
	dir := t.TempDir()
	cmd := startHolder(t, dir, "k")
	l := NewFileLocker(dir)

	// Held by the child: we cannot get it.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	_, err := l.Lock(ctx, "k")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while the child holds it: %v", err)
	}
	// Another key is independent.
	if unlock, err := l.Lock(context.Background(), "other"); err != nil {
		t.Fatalf("other key: %v", err)
	} else {
		unlock()
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	unlock, err := l.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("lock not released by the kernel after SIGKILL within 2s: %v", err)
	}
	unlock()
	t.Logf("got the lock %v after SIGKILL", time.Since(start))
	if _, err := os.Stat(filepath.Join(dir, "locks", "k.lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

func TestLockContextCancel(t *testing.T) {
	dir := t.TempDir()
	l := NewFileLocker(dir)
	unlock, err := l.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Lock(ctx, "k")
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lock after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Lock did not return after ctx cancel")
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := l.Lock(ctx, "free-key"); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a done ctx = %v", err)
	}

	// After unlock a waiter gets it promptly.
	unlock()
	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	u2, err := l.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	u2()
	if _, err := l.Lock(context.Background(), "../x"); err == nil {
		t.Error("invalid key accepted")
	}
}

func TestLockOr(t *testing.T) {
	l := NewFileLocker(t.TempDir())
	ctx := context.Background()
	key := Key("vb365", "https://h", "u", "password", "", "")
	unlock, err := l.Lock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}

	// Held elsewhere: ready ends the wait without the lock.
	calls := 0
	u2, locked, err := LockOr(ctx, l, key, func() bool { calls++; return calls == 3 })
	if err != nil || locked || calls != 3 {
		t.Fatalf("LockOr with ready: locked %v err %v after %d calls", locked, err, calls)
	}
	u2() // a no-op, safe to call

	// Never ready: the lock is taken once the holder lets go.
	go func() {
		time.Sleep(30 * time.Millisecond)
		unlock()
	}()
	u3, locked, err := LockOr(ctx, l, key, func() bool { return false })
	if err != nil || !locked {
		t.Fatalf("LockOr after release: locked %v err %v", locked, err)
	}
	// Now held by this caller: a plain Lock attempt must wait.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, key); err == nil {
		t.Fatal("a second Lock succeeded while LockOr's lock was held")
	}
	u3()

	// A context that ends while waiting is an error, ready or not.
	u4, _ := l.Lock(ctx, key)
	short2, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	if _, _, err := LockOr(short2, l, key, func() bool { return false }); err == nil {
		t.Fatal("LockOr returned without the lock, ready or an error")
	}
	u4()
}
