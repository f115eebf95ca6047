package etcd_test

// Whole-process figures of the fleet on loopback, for BENCHMARKS.md:
//
//	go test -run '^$' -bench Fleet -benchtime 200x ./cache/etcd
//
// BenchmarkFleetHit times, alternately, a Go hello world, a hit the front
// answers from the machine's young local copy, and an etcd-level hit (the
// local copy is older than local_max_age: the engine reads etcd, answers,
// and refreshes the copy). BenchmarkFleetColdHerd starts 8 processes on
// each of 4 machines on a cold fleet and compares the last one's wait with
// one process alone doing the grant.

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

func helloWorld(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	src := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, world\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build hello world: %v\n%s", err, out)
	}
	return bin
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// timed runs cmd and returns its wall time; a failure ends the benchmark.
func timed(b *testing.B, cmd *exec.Cmd) time.Duration {
	took, _ := timedCPU(b, cmd)
	return took
}

// timedCPU is timed and the CPU time (user and system) the process used,
// which a machine shared with other jobs disturbs less than wall time.
func timedCPU(b *testing.B, cmd *exec.Cmd) (wall, cpu time.Duration) {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", cmd.Path, err, out)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func BenchmarkFleetHit(b *testing.B) {
	// Two identities (two servers): the machines' items must not share the
	// file backend's KEK cache slot, as on two real machines.
	f, g := newFleet(b), newFleet(b)
	hello := helloWorld(b)
	young := f.machine(machineOpts{})
	old := g.machine(machineOpts{localMaxAge: "0s"}) // every call asks etcd
	for _, e := range []*testenv.Env{young, old} {
		if r := e.Run("", "get", "--format", "token"); r.Exit != 0 {
			b.Fatalf("first get: exit %d %s", r.Exit, r.Stderr)
		}
	}
	var helloT, localT, etcdT, helloC, localC, etcdC []time.Duration
	add := func(wall, cpu *[]time.Duration, cmd *exec.Cmd) {
		w, c := timedCPU(b, cmd)
		*wall, *cpu = append(*wall, w), append(*cpu, c)
	}
	b.ResetTimer()
	for b.Loop() {
		add(&helloT, &helloC, exec.Command(hello))
		add(&localT, &localC, young.Command(b.Context(), "get", "--format", "token"))
		add(&etcdT, &etcdC, old.Command(b.Context(), "get", "--format", "token"))
	}
	b.StopTimer()
	if n, m := f.em.Counts(), g.em.Counts(); n.TokenCalls != 1 || m.TokenCalls != 1 {
		b.Fatalf("servers saw %d and %d token calls: the hits were not hits", n.TokenCalls, m.TokenCalls)
	}
	h, l, e := median(helloT), median(localT), median(etcdT)
	b.ReportMetric(ms(h), "hello-ms")
	b.ReportMetric(ms(l), "local-hit-ms")
	b.ReportMetric(ms(e), "etcd-hit-ms")
	b.ReportMetric(float64(l)/float64(h), "local/hello")
	b.ReportMetric(float64(e)/float64(h), "etcd/hello")
	hc, lc, ec := median(helloC), median(localC), median(etcdC)
	b.ReportMetric(ms(hc), "hello-cpu-ms")
	b.ReportMetric(ms(lc), "local-hit-cpu-ms")
	b.ReportMetric(ms(ec), "etcd-hit-cpu-ms")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkFleetColdHerd(b *testing.B) {
	const machines, perMachine = 4, 8
	const grant = 200 * time.Millisecond
	testenv.Binary(b)
	var alone, last []time.Duration
	grants := 0
	for b.Loop() {
		// One process alone on a cold fleet: the grant and its writes.
		f := newFleet(b)
		f.em.SetDelay(grant)
		alone = append(alone, timed(b, f.machine(machineOpts{}).Command(b.Context(), "get", "--format", "token")))

		f = newFleet(b)
		f.em.SetDelay(grant)
		var procs []*testenv.Env
		for m := 0; m < machines; m++ {
			e := f.machine(machineOpts{})
			for i := 0; i < perMachine; i++ {
				procs = append(procs, e)
			}
		}
		res := runAll(b, procs, "--format", "json")
		longest := time.Duration(0)
		for _, r := range res {
			if r.exit != 0 {
				b.Fatalf("exit %d: %s", r.exit, r.stderr)
			}
			longest = max(longest, r.took)
		}
		last = append(last, longest)
		grants += f.em.Counts().Grants["password"]
	}
	a, l := median(alone), median(last)
	b.ReportMetric(ms(a), "one-grant-ms")
	b.ReportMetric(ms(l), "last-of-32-ms")
	b.ReportMetric(float64(l)/float64(a), "last/one")
	b.ReportMetric(float64(grants)/float64(len(last)), "grants/herd")
	b.ReportMetric(0, "ns/op")
}
