package main

// Many processes at once (issue 6): only one talks to the server, the others
// wait on the per-identity lock and reuse its answer.

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// herdSize is the number of processes started at once. The binary is
// race-instrumented when the tests are, so it stays modest.
const herdSize = 32

type herdResult struct {
	exit           int
	stdout, stderr string
	answer         answer
}

// herd starts n `get` processes at the same instant and waits for all.
func herd(t *testing.T, e *testenv.Env, n int, args ...string) []herdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	errs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = e.Command(ctx, append([]string{"get"}, args...)...)
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], errs[i]
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	res := make([]herdResult, n)
	for i := range cmds {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			err := cmds[i].Run()
			r := herdResult{stdout: outs[i].String(), stderr: errs[i].String()}
			if ee, ok := err.(*exec.ExitError); ok {
				r.exit = ee.ExitCode()
			} else if err != nil {
				r.exit = -1
				r.stderr += err.Error()
			}
			json.Unmarshal(outs[i].Bytes(), &r.answer)
			res[i] = r
		}(i)
	}
	close(start)
	wg.Wait()
	return res
}

func TestConcurrentColdCacheOneGrant(t *testing.T) {
	e, em := vb365Env(t, nil)
	// A slow server keeps the first process inside the grant while the
	// others start and queue on the lock.
	em.SetDelay(300 * time.Millisecond)
	start := time.Now()
	res := herd(t, e, herdSize)
	took := time.Since(start)
	tokens := map[string]int{}
	sources := map[string]int{}
	for i, r := range res {
		if r.exit != 0 {
			t.Errorf("process %d: exit %d stderr %q", i, r.exit, r.stderr)
			continue
		}
		if r.stderr != "" {
			t.Errorf("process %d wrote stderr %q", i, r.stderr)
		}
		tokens[r.answer.AccessToken]++
		sources[r.answer.Source]++
	}
	n := em.Counts()
	if n.TokenCalls != 1 || n.Grants["password"] != 1 {
		t.Errorf("server saw %+v: want exactly one grant", n)
	}
	if len(tokens) != 1 {
		t.Errorf("%d distinct tokens among %d processes", len(tokens), herdSize)
	}
	for tok := range tokens {
		if !em.Valid(tok) {
			t.Error("the shared token is not valid on the server")
		}
	}
	if sources["grant"] != 1 || sources["cache"] != herdSize-1 {
		t.Errorf("sources %v", sources)
	}
	t.Logf("%d processes, cold cache: %d token call(s), %d distinct token(s), sources %v, %s wall",
		herdSize, n.TokenCalls, len(tokens), sources, took.Round(time.Millisecond))
}

func TestConcurrentRefreshOnce(t *testing.T) {
	for _, product := range []string{"vb365", "vbazure"} {
		t.Run(product, func(t *testing.T) {
			var e *testenv.Env
			var em *emulator.Emulator
			refreshGrant, primary := "refresh_token", "password"
			if product == "vb365" {
				e, em = vb365Env(t, nil) // refresh_before = "10s"
			} else {
				e, em = azureEnv(t, "")
				refreshGrant, primary = "Refresh_token", "Password"
			}
			// The first token lives 5s: inside refresh_before (10s for vb365,
			// the 60s default for vbazure) from the start.
			em.SetAccessTTL(5 * time.Second)
			first := decode(t, e.Run("", "get"))
			if first.Source != "grant" {
				t.Fatalf("first: %+v", first)
			}
			em.SetAccessTTL(time.Hour)
			em.SetDelay(300 * time.Millisecond)
			res := herd(t, e, herdSize)
			tokens := map[string]int{}
			sources := map[string]int{}
			for i, r := range res {
				if r.exit != 0 {
					t.Errorf("process %d: exit %d stderr %q", i, r.exit, r.stderr)
					continue
				}
				tokens[r.answer.AccessToken]++
				sources[r.answer.Source]++
			}
			n := em.Counts()
			if n.Grants[refreshGrant] != 1 {
				t.Errorf("%d refreshes, want exactly 1 (%+v)", n.Grants[refreshGrant], n)
			}
			if n.RefreshReuse != 0 {
				t.Errorf("a refresh token was sent twice: RefreshReuse %d", n.RefreshReuse)
			}
			if n.Grants[primary] != 1 || len(n.FailedGrants) != 0 {
				t.Errorf("fallback grant or failures: %+v", n)
			}
			if len(tokens) != 1 || tokens[first.AccessToken] != 0 {
				t.Errorf("tokens: %d distinct, the old one answered %d times", len(tokens), tokens[first.AccessToken])
			}
			if sources["refresh"] != 1 || sources["cache"] != herdSize-1 {
				t.Errorf("sources %v", sources)
			}
			t.Logf("%s: %d processes inside refresh_before: %d refresh, RefreshReuse %d, %d primary grant(s) in all, sources %v",
				product, herdSize, n.Grants[refreshGrant], n.RefreshReuse, n.Grants[primary], sources)
		})
	}
}

// Two identities on one server do not serialise on each other and never
// get each other's token.
func TestConcurrentTwoIdentities(t *testing.T) {
	e, em := twoProfileEnv(t)
	em.SetDelay(200 * time.Millisecond)
	var wg sync.WaitGroup
	var a, b []herdResult
	wg.Add(2)
	go func() { defer wg.Done(); a = herd(t, e, herdSize/2) }()
	go func() { defer wg.Done(); b = herd(t, e, herdSize/2, "-p", "second") }()
	wg.Wait()
	distinct := func(rs []herdResult) map[string]bool {
		m := map[string]bool{}
		for _, r := range rs {
			if r.exit != 0 {
				t.Errorf("exit %d %q", r.exit, r.stderr)
			}
			m[r.answer.AccessToken] = true
		}
		return m
	}
	da, db := distinct(a), distinct(b)
	if len(da) != 1 || len(db) != 1 {
		t.Fatalf("distinct tokens: %d and %d", len(da), len(db))
	}
	for tok := range da {
		if db[tok] {
			t.Error("two identities got the same token")
		}
	}
	if n := em.Counts(); n.Grants["password"] != 2 || n.TokenCalls != 2 {
		t.Errorf("counts %+v", n)
	}
}
