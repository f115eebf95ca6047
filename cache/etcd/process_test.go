package etcd_test

// What needs processes: a herd of real front/engine processes on several
// machines, a holder killed with SIGKILL, exit codes and stderr.

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// answer is the json output of `get`.
type answer struct {
	AccessToken string `json:"access_token"`
	Source      string `json:"source"`
}

type run struct {
	exit           int
	stdout, stderr string
	took           time.Duration
	answer         answer
}

// runAll starts one `get` per machine in machines, all at the same instant.
func runAll(t testing.TB, machines []*testenv.Env, args ...string) []run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmds := make([]*exec.Cmd, len(machines))
	outs := make([]*bytes.Buffer, len(machines))
	errs := make([]*bytes.Buffer, len(machines))
	for i, e := range machines {
		cmds[i] = e.Command(ctx, append([]string{"get"}, args...)...)
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], errs[i]
	}
	res := make([]run, len(machines))
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cmds[i].Run()
			r := run{stdout: outs[i].String(), stderr: errs[i].String(), took: time.Since(start)}
			if ee, ok := err.(*exec.ExitError); ok {
				r.exit = ee.ExitCode()
			} else if err != nil {
				r.exit, r.stderr = -1, r.stderr+err.Error()
			}
			json.Unmarshal(outs[i].Bytes(), &r.answer)
			res[i] = r
		}()
	}
	wg.Wait()
	return res
}

// TestProcessColdHerd: 4 machines x 8 processes of the real binaries, cold:
// one grant in the fleet, one token everywhere.
func TestProcessColdHerd(t *testing.T) {
	f := newFleet(t)
	const machines, perMachine = 4, 8
	var procs []*testenv.Env
	for m := 0; m < machines; m++ {
		e := f.machine(machineOpts{})
		for i := 0; i < perMachine; i++ {
			procs = append(procs, e)
		}
	}
	testenv.Binary(t) // built before the clock starts
	const grant = 300 * time.Millisecond
	f.em.SetDelay(grant)
	res := runAll(t, procs)
	tokens, sources := map[string]int{}, map[string]int{}
	var took []time.Duration
	for i, r := range res {
		if r.exit != 0 || r.stderr != "" {
			t.Errorf("process %d: exit %d, stderr %q", i, r.exit, r.stderr)
			continue
		}
		tokens[r.answer.AccessToken]++
		sources[r.answer.Source]++
		took = append(took, r.took)
	}
	n := f.em.Counts()
	if n.TokenCalls != 1 || n.Grants["password"] != 1 {
		t.Errorf("server saw %+v: want exactly one grant for %d machines x %d processes", n, machines, perMachine)
	}
	if len(tokens) != 1 || sources["grant"] != 1 {
		t.Errorf("%d distinct tokens, sources %v: want 1 token and 1 grant", len(tokens), sources)
	}
	if len(took) > 0 {
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		t.Logf("%d machines x %d processes cold: %d grant(s), %d token(s); first answer after %s, last after %s (the grant itself takes %s at the server)",
			machines, perMachine, n.Grants["password"], len(tokens), took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), grant)
	}
}

// TestProcessHolderKilled: the fleet lock's holder dies with SIGKILL in the
// middle of its grant; another machine proceeds once the holder's lease
// (lock_ttl) lapses, well within its own timeout.
func TestProcessHolderKilled(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	f := newFleet(t)
	f.em.SetDelay(time.Minute) // the holder stays inside its grant
	holder := f.machine(machineOpts{lockTTL: "2s"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := holder.Command(ctx, "get")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cli := f.client(t)
	lockPrefix := f.prefix + "lock/"
	for deadline := time.Now().Add(time.Minute); f.count(t, cli, lockPrefix) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the holder never took the fleet lock; stderr %q", stderr.String())
		}
	}
	cmd.Process.Kill() // SIGKILL: no unlock, no revoke
	cmd.Wait()
	f.em.SetDelay(0)
	if f.count(t, cli, lockPrefix) == 0 {
		t.Fatal("the killed holder's lock is gone at once: nothing left to wait for")
	}
	// timeout bounds the wait: lock_ttl (2s) and the grant must fit in it.
	other := f.machine(machineOpts{lockTTL: "2s", timeout: "20s"})
	start := time.Now()
	r := other.Run("", "get")
	took := time.Since(start)
	if r.Exit != 0 || r.Stderr != "" {
		t.Fatalf("the other machine: exit %d, stderr %q", r.Exit, r.Stderr)
	}
	var a answer
	if err := json.Unmarshal([]byte(r.Stdout), &a); err != nil || a.Source != "grant" || !f.em.Valid(a.AccessToken) {
		t.Errorf("the other machine's answer: %+v (%v): want its own valid grant", a, err)
	}
	if f.count(t, cli, lockPrefix) != 0 {
		t.Error("a lock key outlived its holders")
	}
	t.Logf("holder killed mid-grant: the other machine answered after %s (lock_ttl 2s)", took.Round(time.Millisecond))
}

func TestProcessClientCertificateRefusedExit6(t *testing.T) {
	f := newFleet(t)
	e := f.machine(machineOpts{certFile: f.cluster.RogueCertFile, keyFile: f.cluster.RogueKeyFile})
	r := e.Run("", "get")
	if r.Exit != 6 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "refused") {
		t.Errorf("exit %d, stderr %q: want exit 6 and one line saying etcd refused", r.Exit, r.Stderr)
	}
	var out struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || out.Error.Code != "cache_unavailable" {
		t.Errorf("stdout %q: want the json error cache_unavailable", r.Stdout)
	}
	if n := f.em.Counts(); n.TokenCalls != 0 {
		t.Errorf("server saw %d token calls: a refusing etcd must not become a local session", n.TokenCalls)
	}
}

func TestProcessClusterDownLocalGrant(t *testing.T) {
	f := newFleet(t)
	endpoints := closedEndpoints(t, 3)
	e := f.machine(machineOpts{endpoints: endpoints})
	r := e.Run("", "get")
	if r.Exit != 0 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, endpoints[2]) {
		t.Fatalf("exit %d, stderr %q: want exit 0 and one warning naming the endpoints", r.Exit, r.Stderr)
	}
	var first, second answer
	json.Unmarshal([]byte(r.Stdout), &first)
	r = e.Run("", "get")
	json.Unmarshal([]byte(r.Stdout), &second)
	if r.Exit != 0 || r.Stderr != "" || second.AccessToken != first.AccessToken || second.Source != "cache" {
		t.Errorf("next call: exit %d, stderr %q, source %s: want the cached token, quietly", r.Exit, r.Stderr, second.Source)
	}
	if n := f.em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server saw %d token calls, want 1", n.TokenCalls)
	}
}

func TestProcessStatus(t *testing.T) {
	f := newFleet(t)
	e := f.machine(machineOpts{})
	if r := e.Run("", "get"); r.Exit != 0 {
		t.Fatalf("get: exit %d %q", r.Exit, r.Stderr)
	}
	r := e.Run("", "status", "--json")
	var sts []struct {
		Backend string `json:"cache_backend"`
		Fleet   *struct {
			Endpoints  []string `json:"endpoints"`
			Reachable  bool     `json:"reachable"`
			Healthy    bool     `json:"healthy"`
			TokenValid bool     `json:"token_valid"`
		} `json:"fleet"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &sts); err != nil || r.Exit != 0 {
		t.Fatalf("status --json: exit %d, %v: %s %s", r.Exit, err, r.Stdout, r.Stderr)
	}
	if len(sts) != 1 || sts[0].Backend != "etcd" || sts[0].Fleet == nil || !sts[0].Fleet.Reachable || !sts[0].Fleet.Healthy ||
		!sts[0].Fleet.TokenValid || len(sts[0].Fleet.Endpoints) != 3 {
		t.Errorf("status --json: %s", r.Stdout)
	}
	r = e.Run("", "status")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "etcd healthy, fleet token valid 59m") || !strings.Contains(r.Stdout, f.cluster.Endpoints()[0]) {
		t.Errorf("status: exit %d:\n%s", r.Exit, r.Stdout)
	}
}

// client is an etcd client of the test itself (the accepted certificate).
func (f *fleet) client(t *testing.T) *clientv3.Client {
	t.Helper()
	tc, err := f.cluster.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: f.cluster.Endpoints(), TLS: tc, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// count is how many keys etcd holds under prefix.
func (f *fleet) count(t *testing.T, c *clientv3.Client, prefix string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}
