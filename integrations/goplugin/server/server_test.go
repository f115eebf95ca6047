package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// countingStore counts reads of the (encrypted, costly) store.
type countingStore struct {
	cache.Store
	gets atomic.Int64
}

func (s *countingStore) Get(key string) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(key)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	e     *testenv.Env
	em    *emulator.Emulator
	s     *Server
	store *countingStore
	clock *clock
}

func setup(t *testing.T) *fixture {
	t.Helper()
	e := testenv.New(t)
	em := e.M365Profile(emulator.Options{}, "svc", "pw-server-test", "SERVER_TEST_PASSWORD", nil)
	h := e.Helper()
	st, _, err := h.OpenCache()
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	h.Store = cs
	clk := &clock{t: time.Now()}
	h.Now = clk.now
	return &fixture{e: e, em: em, s: New(h, nil), store: cs, clock: clk}
}

func (f *fixture) get(t *testing.T, r goplugin.Request) *protocol.Credential {
	t.Helper()
	c, err := f.s.GetCredential(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantRefreshed gets profile m365 and fails unless the helper answered it
// with a refresh grant: a token other than first's.
func (f *fixture) wantRefreshed(t *testing.T, first *protocol.Credential, when string) {
	t.Helper()
	c := f.get(t, goplugin.Request{Profile: "m365"})
	if c.Source != helper.SourceRefresh || c.AccessToken == first.AccessToken {
		t.Fatalf("%s: %v", when, c)
	}
}

func TestMemoryAnswersWithoutStoreThenRereadsAfterTTL(t *testing.T) {
	f := setup(t)
	first := f.get(t, goplugin.Request{Profile: "m365"})
	if first.Source != helper.SourceGrant {
		t.Fatalf("first: %v", first)
	}
	reads := f.store.gets.Load()
	for i := 0; i < 10; i++ {
		c := f.get(t, goplugin.Request{})
		if c.Source != helper.SourceCache || c.AccessToken != first.AccessToken {
			t.Fatalf("call %d: %v", i, c)
		}
	}
	if n := f.store.gets.Load(); n != reads {
		t.Fatalf("calls within MemoryTTL read the store %d times", n-reads)
	}
	f.clock.add(DefaultMemoryTTL)
	if c := f.get(t, goplugin.Request{Profile: "m365"}); c.Source != helper.SourceCache || c.AccessToken != first.AccessToken {
		t.Fatalf("after MemoryTTL: %v", c)
	}
	if n := f.store.gets.Load(); n != reads+1 {
		t.Fatalf("after MemoryTTL the store was read %d times, want 1", n-reads)
	}
	// A stricter MinValid than the remembered token allows goes to the helper.
	if c := f.get(t, goplugin.Request{Profile: "m365", MinValid: time.Hour - 500*time.Millisecond}); c.Source == helper.SourceCache {
		t.Fatalf("MinValid beyond the token's life answered from memory: %v", c)
	}
	// Force refresh never answers from memory.
	if c := f.get(t, goplugin.Request{Profile: "m365", ForceRefresh: true}); c.Source == helper.SourceCache {
		t.Fatalf("ForceRefresh answered from memory: %v", c)
	}
	if g := f.em.Counts().Grants["password"]; g != 1 {
		t.Fatalf("password grants: %d", g)
	}
}

func TestMemoryNearExpiryGoesToHelper(t *testing.T) {
	f := setup(t)
	first := f.get(t, goplugin.Request{Profile: "m365"})
	// Inside refresh_before (60s) of the expiry, memory must not answer.
	f.clock.t = first.ExpiresAt.Add(-30 * time.Second)
	f.wantRefreshed(t, first, "near expiry")
}

func TestInvalidateClearsMemory(t *testing.T) {
	f := setup(t)
	first := f.get(t, goplugin.Request{Profile: "m365"})
	if err := f.s.Invalidate(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	f.wantRefreshed(t, first, "after Invalidate")
}

func TestAnotherProcessLogoutSeenAfterMemoryTTL(t *testing.T) {
	f := setup(t)
	first := f.get(t, goplugin.Request{Profile: "m365"})
	if r := f.e.Run("", "logout"); r.Exit != 0 {
		t.Fatalf("logout: %+v", r)
	}
	if f.em.Valid(first.AccessToken) {
		t.Fatal("logout did not revoke the session")
	}
	f.clock.add(DefaultMemoryTTL)
	c := f.get(t, goplugin.Request{Profile: "m365"})
	if c.Source != helper.SourceGrant || !f.em.Valid(c.AccessToken) {
		t.Fatalf("after another process's logout: %v", c)
	}
}

func TestQueuedCallGivesUpWithItsContext(t *testing.T) {
	f := setup(t)
	f.em.HangNext(1)
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() {
		_, err := f.s.GetCredential(ctxA, goplugin.Request{Profile: "m365"})
		doneA <- err
	}()
	for f.em.Counts().TokenCalls == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctxB, cancelB := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelB()
	start := time.Now()
	_, err := f.s.GetCredential(ctxB, goplugin.Request{Profile: "m365"})
	var pe *exitcode.Error
	if !errors.As(err, &pe) || pe.Exit != exitcode.Unreachable || time.Since(start) > 5*time.Second {
		t.Fatalf("queued call: %v after %s", err, time.Since(start))
	}
	cancelA()
	select {
	case err := <-doneA:
		if err == nil {
			t.Fatal("cancelled call answered")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled call hangs")
	}
	if c := f.get(t, goplugin.Request{Profile: "m365"}); c.Source != helper.SourceGrant {
		t.Fatalf("after the hang: %v", c)
	}
}

func TestFailingAnswersTheConfigurationError(t *testing.T) {
	s := Failing(exitcode.UsageError("config.toml: line 3: unknown configuration key %q", "bogus"), nil)
	ctx := context.Background()
	_, err := s.GetCredential(ctx, goplugin.Request{})
	var pe *exitcode.Error
	if !errors.As(err, &pe) || pe.Exit != 2 || pe.Code() != "invalid_configuration" || pe.Msg != `config.toml: line 3: unknown configuration key "bogus"` {
		t.Fatalf("get: %#v", err)
	}
	if err := s.Invalidate(ctx, "x"); exitcode.Of(err) != 2 {
		t.Fatalf("invalidate: %v", err)
	}
	if _, err := s.ListProfiles(ctx); exitcode.Of(err) != 2 {
		t.Fatalf("list: %v", err)
	}
}

func TestLogWriterLevels(t *testing.T) {
	var got []string
	w := LogWriter(recordLogger(&got))
	fmt.Fprint(w, "veeam-credential-helper: warning: insecure_skip_verify is on\nveeam-credential-helper: debug: cache hit\npartial")
	fmt.Fprint(w, " line\n")
	want := []string{"WARN insecure_skip_verify is on", "DEBUG cache hit", "INFO partial line"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
