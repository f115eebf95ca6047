package main

// Many processes at once (issue 6): only one talks to the server, the others
// wait on the per-identity lock and reuse its answer.

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// herdSize is the number of processes started at once. The binary is
// race-instrumented when the tests are, so it stays modest.
const herdSize = 16

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
	res := make([]herdResult, n)
	testenv.AtOnce(n, func(i int) {
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
	})
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
