// Command benchhit times whole-process cache hits of veeam-credential-helper
// against a Go hello world, each subject right after a hello world run of
// its own (H A H C H B ..., the subjects in a new random order every round),
// and prints the median of the ratios to that hello world. With -concurrent
// it also starts 64 processes at once on a cold cache against the
// in-process emulator and compares the time until the last one finishes
// with one grant plus 64 cache hits run back to back.
//
// It is run by scripts/bench.sh, which builds the binaries first:
//
//	go run ./scripts/benchhit -bin ./veeam-credential-helper -hello ./hello
//
// Everything runs on loopback in a throwaway home; nothing outside it is
// touched except the kernel user keyring (keyctl rounds, removed at the end).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

const (
	user     = `corp\svc-bench`
	password = "bench-password-not-secret"
	pass     = "bench-passphrase-not-secret"
)

type subject struct {
	name  string
	argv  []string
	env   []string
	stdin string          // a file to read stdin from; "": /dev/null
	wall  []time.Duration // per round
	base  []time.Duration // the hello world run just before each of wall
	rss   int64           // peak RSS in KiB (median of a few runs under GNU time), -1 unknown
}

func main() {
	bin := flag.String("bin", "", "veeam-credential-helper binary (required)")
	bin2 := flag.String("bin2", "", "a second build to time too (e.g. CGO_ENABLED=0)")
	bin2Label := flag.String("bin2-label", "build 2", "what -bin2 is")
	hello := flag.String("hello", "", "Go hello world binary (required)")
	rounds := flag.Int("n", 200, "rounds (each round runs every subject once)")
	warm := flag.Int("warmup", 10, "rounds not counted")
	gke := flag.String("gke", "", "gke-gcloud-auth-plugin binary to time answering from its own cache (optional)")
	keyctl := flag.Bool("keyctl", true, "also time the keyctl backend (skipped where the kernel keyring is not permitted)")
	concurrent := flag.Int("concurrent", 64, "processes started together on a cold cache (0: skip)")
	trials := flag.Int("trials", 7, "trials of the concurrent scenario")
	delay := flag.Duration("grant-delay", 200*time.Millisecond, "emulator's answer delay for a grant in the concurrent scenario")
	profiles := flag.String("profiles", "1", "comma-separated profile counts of the configuration: the hit's subjects are timed with each (e.g. 1,100,1000,10000)")
	setup := flag.String("setup", "", "only fill a file-backend and a keyctl cache in homes under this directory, write their environments to DIR/file.env and DIR/keyctl.env, and exit (for profiling single runs)")
	flag.Parse()
	counts := []int{}
	for _, f := range strings.Split(*profiles, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "-profiles: %q is not a count\n", f)
			os.Exit(2)
		}
		counts = append(counts, n)
	}
	if *setup != "" && *bin != "" {
		setupOnly(*bin, *setup, counts[len(counts)-1])
		return
	}
	if *bin == "" || *hello == "" {
		fmt.Fprintln(os.Stderr, "usage: benchhit -bin PATH -hello PATH [-gke PATH] [-n ROUNDS]")
		os.Exit(2)
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		must(err)
		return a
	}
	*bin, *hello = abs(*bin), abs(*hello)
	if *bin2 != "" {
		*bin2 = abs(*bin2)
	}

	em, err := emulator.New(emulator.Options{Product: "vb365", TLS: true, AccessTTL: 12 * time.Hour})
	must(err)
	defer em.Close()
	em.AddUser(user, password)

	home, err := os.MkdirTemp("", "vch-bench-")
	must(err)
	defer os.RemoveAll(home)
	ca := filepath.Join(home, "ca.pem")
	must(os.WriteFile(ca, em.CACertPEM(), 0o600))

	subjects := []*subject{{name: "go hello world", argv: []string{*hello}, env: baseEnv(home)}}

	for _, n := range counts {
		suffix, dir := "", ""
		if len(counts) > 1 || n > 1 {
			suffix, dir = fmt.Sprintf(", %d profiles", n), fmt.Sprintf("-%d", n)
		}
		fileHome := newHome(home, "file"+dir, em.URL(), ca, "file", n)
		subjects = append(subjects, fileHome.subject(*bin, "get --format token (file backend"+suffix+")"))
		if *bin2 != "" {
			subjects = append(subjects, fileHome.subject(*bin2, "  same, "+*bin2Label))
		}
		if *keyctl {
			keyctlHome := newHome(home, "keyctl"+dir, em.URL(), ca, "keyctl", n)
			if out, err := keyctlHome.run(*bin, "get", "--format", "token"); err != nil {
				fmt.Printf("# keyctl backend skipped: %v: %s\n", err, firstLine(out))
			} else {
				subjects = append(subjects, keyctlHome.subject(*bin, "get --format token (keyctl backend"+suffix+")"))
				if *bin2 != "" {
					subjects = append(subjects, keyctlHome.subject(*bin2, "  same, "+*bin2Label))
				}
				defer keyctlHome.run(*bin, "logout")
			}
		}
		if len(counts) > 1 {
			req := filepath.Join(fileHome.dir, "git-request")
			must(os.WriteFile(req, []byte("protocol=https\nhost="+strings.TrimPrefix(em.URL(), "https://")+"\n\n"), 0o600))
			subjects = append(subjects, fileHome.gitSubject(*bin, "git get (file backend"+suffix+")", req))
			if *bin2 != "" {
				subjects = append(subjects, fileHome.gitSubject(*bin2, "  same, "+*bin2Label, req))
			}
		}
	}
	if *gke != "" {
		subjects = append(subjects, gkeSubject(home, *gke))
	}

	// Every subject must answer correctly before it is timed.
	for _, s := range subjects[1:] {
		cmd := exec.Command(s.argv[0], s.argv[1:]...)
		cmd.Env = s.env
		if s.stdin != "" {
			f, err := os.Open(s.stdin)
			must(err)
			cmd.Stdin = f
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil || out.Len() == 0 {
			fmt.Fprintf(os.Stderr, "%s does not answer: %v\n%s%s", s.name, err, out.String(), errb.String())
			os.Exit(1)
		}
	}
	grantsBefore := em.Counts().TokenCalls

	// Every subject is timed right after a hello world of its own, and the
	// subjects of a round run in a new random order: with one hello world
	// per round and a fixed order, whatever slows the process timed after
	// another kind of process (a long engine run, another configuration's
	// files) was charged to the same subject every round.
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	must(err)
	hello0 := subjects[0]
	rng := rand.New(rand.NewPCG(1, 2))
	for r := 0; r < *warm+*rounds; r++ {
		for _, i := range rng.Perm(len(subjects) - 1) {
			s := subjects[1+i]
			h := runOnce(hello0, devnull)
			d := runOnce(s, devnull)
			if r >= *warm {
				hello0.wall = append(hello0.wall, h)
				s.base = append(s.base, h)
				s.wall = append(s.wall, d)
			}
		}
	}
	if n := em.Counts().TokenCalls - grantsBefore; n != 0 {
		fmt.Fprintf(os.Stderr, "cache hits talked to the server %d times\n", n)
		os.Exit(1)
	}

	for _, s := range subjects {
		s.rss = peakRSS(s)
	}

	fmt.Printf("whole-process wall time, %d rounds, each subject right after a hello world, in random order; medians (ratios to that hello world)\n", *rounds)
	fmt.Printf("%-44s %10s %12s %9s %9s\n", "command", "median", "p10-p90", "ratio", "peak RSS")
	for _, s := range subjects {
		ratios := make([]float64, len(s.wall))
		for i := range s.wall {
			ratios[i] = 1
			if s.base != nil {
				ratios[i] = float64(s.wall[i]) / float64(s.base[i])
			}
		}
		rss := "n/a"
		if s.rss >= 0 {
			rss = fmt.Sprintf("%.1fMiB", float64(s.rss)/1024)
		}
		fmt.Printf("%-44s %8.2fms %4.2f-%4.2fms %8.2fx %9s\n", s.name,
			ms(median(s.wall)), ms(pct(s.wall, 10)), ms(pct(s.wall, 90)), medianF(ratios), rss)
	}

	if *concurrent > 0 {
		fmt.Println()
		concurrentScenario(*bin, em, home, ca, *concurrent, *trials, *delay, devnull)
	}
}

// concurrentScenario: per trial, in this order, each on a fresh cold cache:
// one process alone (one grant), the same then N hits back to back, and N
// processes started together. The goal is all N finishing within one grant
// plus N back-to-back hits, with one grant on the server.
func concurrentScenario(bin string, em *emulator.Emulator, home, ca string, n, trials int, delay time.Duration, devnull *os.File) {
	em.SetDelay(delay)
	defer em.SetDelay(0)
	var one, seq, conc []time.Duration
	var ratio []float64
	grantsOK := true
	for t := 0; t < trials; t++ {
		h := newHome(home, fmt.Sprintf("cold-%d-a", t), em.URL(), ca, "file", 1)
		start := time.Now()
		if out, err := h.run(bin, "get", "--format", "token"); err != nil {
			fmt.Fprintf(os.Stderr, "cold get: %v %s\n", err, out)
			os.Exit(1)
		}
		g := time.Since(start)
		start = time.Now()
		for i := 0; i < n; i++ {
			cmd := h.command(bin, "get", "--format", "token")
			cmd.Stdout = devnull
			must(cmd.Run())
		}
		s := time.Since(start)

		h2 := newHome(home, fmt.Sprintf("cold-%d-b", t), em.URL(), ca, "file", 1)
		before := em.Counts().Grants["password"]
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed []string
		cmds := make([]*exec.Cmd, n)
		outs := make([]*bytes.Buffer, n)
		for i := range cmds {
			cmds[i] = h2.command(bin, "get", "--format", "token")
			outs[i] = &bytes.Buffer{}
			cmds[i].Stdout = outs[i]
			cmds[i].Stderr = outs[i]
		}
		start = time.Now()
		for i := range cmds {
			must(cmds[i].Start())
		}
		for i := range cmds {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if err := cmds[i].Wait(); err != nil {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%v: %s", err, firstLine(outs[i].String())))
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		c := time.Since(start)
		grants := em.Counts().Grants["password"] - before
		if len(failed) > 0 {
			fmt.Fprintf(os.Stderr, "%d of %d concurrent processes failed, first: %s\n", len(failed), n, failed[0])
			os.Exit(1)
		}
		if grants != 1 {
			grantsOK = false
			fmt.Printf("# trial %d: %d grants on the server (want 1)\n", t, grants)
		}
		one, seq, conc = append(one, g), append(seq, s), append(conc, c)
		ratio = append(ratio, float64(c)/float64(g+s))
	}
	fmt.Printf("%d processes started together on a cold cache (emulator grant delay %s), %d trials, medians\n", n, delay, trials)
	fmt.Printf("  one cold process (one grant):     %8.1fms\n", ms(median(one)))
	fmt.Printf("  %d cache hits back to back:       %8.1fms\n", n, ms(median(seq)))
	fmt.Printf("  %d started together, last done:   %8.1fms\n", n, ms(median(conc)))
	fmt.Printf("  together / (one grant + %d hits): %8.2f   (goal <= 1.00)\n", n, medianF(ratio))
	if grantsOK {
		fmt.Printf("  grants on the server per trial:   1\n")
	}
}

// setupOnly leaves filled caches behind (tokens valid for 12 hours) so that
// single runs can be profiled without the emulator; configurations of n
// profiles.
func setupOnly(bin, root string, n int) {
	bin, err := filepath.Abs(bin)
	must(err)
	root, err = filepath.Abs(root)
	must(err)
	must(os.MkdirAll(root, 0o700))
	em, err := emulator.New(emulator.Options{Product: "vb365", TLS: true, AccessTTL: 12 * time.Hour})
	must(err)
	defer em.Close()
	em.AddUser(user, password)
	ca := filepath.Join(root, "ca.pem")
	must(os.WriteFile(ca, em.CACertPEM(), 0o600))
	for _, b := range []string{"file", "keyctl"} {
		h := newHome(root, b, em.URL(), ca, b, n)
		if out, err := h.run(bin, "get", "--format", "token"); err != nil {
			fmt.Printf("# %s: %v: %s\n", b, err, firstLine(out))
			continue
		}
		var env strings.Builder
		for _, kv := range h.env {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&env, "export %s='%s'\n", k, v)
		}
		git := filepath.Join(root, b+".git-request")
		must(os.WriteFile(git, []byte("protocol=https\nhost="+strings.TrimPrefix(em.URL(), "https://")+"\n\n"), 0o600))
		fmt.Fprintf(&env, "export GIT_REQUEST='%s'\n", git)
		must(os.WriteFile(filepath.Join(root, b+".env"), []byte(env.String()), 0o600))
		fmt.Printf("%s: . %s\n", b, filepath.Join(root, b+".env"))
	}
}

type benchHome struct {
	dir, config string
	env         []string
}

// newHome writes a configuration of n profiles: the one timed, m365 (the
// default), and n-1 others on other servers, each with its own git host.
func newHome(root, name, url, ca, backend string, n int) *benchHome {
	dir := filepath.Join(root, name)
	must(os.MkdirAll(dir, 0o700))
	h := &benchHome{dir: dir, config: filepath.Join(dir, "config.toml")}
	cfg := fmt.Sprintf(`default_profile = "m365"

[cache]
backend = %q
dir = %q

[profiles.m365]
product = "vb365"
url = %q
username = '%s'
password_env = "VB365_PASSWORD"
ca_file = %q
`, backend, filepath.Join(dir, "cache"), url, user, ca)
	var more strings.Builder
	for i := 1; i < n; i++ {
		fmt.Fprintf(&more, "\n[profiles.tenant%05d]\nproduct = \"vb365\"\nurl = \"https://vb365-%d.tenants.example:4443\"\n"+
			"username = \"svc-%d\"\npassword_env = \"VB365_PASSWORD\"\ngit_hosts = [\"git-%d.tenants.example\"]\n", i, i, i, i)
	}
	must(os.WriteFile(h.config, []byte(cfg+more.String()), 0o600))
	// A file changed within the file system's clock tick gets an index the
	// front checks against the content on every call (package hit): wait
	// that out, as any configuration edited by hand has.
	time.Sleep(100 * time.Millisecond)
	h.env = append(baseEnv(dir), "VEEAM_CREDENTIAL_HELPER_CONFIG="+h.config,
		"VEEAM_CREDENTIAL_HELPER_PASSPHRASE="+pass, "VB365_PASSWORD="+password)
	return h
}

func baseEnv(home string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "xdg-config"), "XDG_CACHE_HOME=" + filepath.Join(home, "xdg-cache")}
}

func (h *benchHome) command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = h.env
	return cmd
}

func (h *benchHome) run(bin string, args ...string) (string, error) {
	out, err := h.command(bin, args...).CombinedOutput()
	return string(out), err
}

// subject fills the cache (one grant), then times the hit.
func (h *benchHome) subject(bin, name string) *subject {
	if out, err := h.run(bin, "get", "--format", "token"); err != nil {
		fmt.Fprintf(os.Stderr, "%s: first get failed: %v\n%s", name, err, out)
		os.Exit(1)
	}
	return &subject{name: name, argv: []string{bin, "get", "--format", "token"}, env: h.env}
}

// gitSubject times `git get` of the profile's host, request read from req.
func (h *benchHome) gitSubject(bin, name, req string) *subject {
	s := h.subject(bin, name)
	s.argv, s.stdin = []string{bin, "git", "get"}, req
	return s
}

// gkeSubject gives gke-gcloud-auth-plugin a kubeconfig and its own cache
// file holding a token valid for a day, so it answers without gcloud.
func gkeSubject(root, bin string) *subject {
	dir := filepath.Join(root, "gke")
	kube := filepath.Join(dir, ".kube")
	must(os.MkdirAll(kube, 0o700))
	must(os.WriteFile(filepath.Join(kube, "config"), []byte(`apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: bench
  context: {cluster: bench, user: bench}
current-context: bench
users:
- name: bench
  user: {token: unused}
`), 0o600))
	exp := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	must(os.WriteFile(filepath.Join(kube, "gke_gcloud_auth_plugin_cache"),
		[]byte(`{"current_context":"bench","access_token":"ya29.bench-not-a-token","token_expiry":"`+exp+`"}`), 0o600))
	return &subject{name: "gke-gcloud-auth-plugin (its own cache)", argv: []string{bin},
		env: append(baseEnv(dir), "KUBECONFIG="+filepath.Join(kube, "config"))}
}

// peakRSS runs s five times under GNU time (/usr/bin/time -f %M). The
// rusage of a child of this (large) Go process is no good: a child forked
// by Go shares its parent's memory until exec, and ru_maxrss counts that.
func peakRSS(s *subject) int64 {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		return -1
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("vch-bench-rss-%d", os.Getpid()))
	defer os.Remove(out)
	var v []int64
	for i := 0; i < 5; i++ {
		cmd := exec.Command("/usr/bin/time", append([]string{"-o", out, "-f", "%M"}, s.argv...)...)
		cmd.Env = s.env
		if s.stdin != "" {
			f, err := os.Open(s.stdin)
			must(err)
			defer f.Close()
			cmd.Stdin = f
		}
		if cmd.Run() != nil {
			return -1
		}
		b, err := os.ReadFile(out)
		var kb int64
		if _, serr := fmt.Sscan(string(b), &kb); err != nil || serr != nil {
			return -1
		}
		v = append(v, kb)
	}
	return medianI(v)
}

func runOnce(s *subject, devnull *os.File) time.Duration {
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = s.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	if s.stdin != "" {
		f, err := os.Open(s.stdin)
		must(err)
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", s.name, err)
		os.Exit(1)
	}
	return d
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func medianF(f []float64) float64 {
	s := append([]float64(nil), f...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func medianI(v []int64) int64 {
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
