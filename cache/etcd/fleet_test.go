package etcd_test

// The fleet against a real three-member etcd cluster (internal/etcdtest,
// started once in TestMain) and the emulator. A "machine" is a home of its
// own (config, cache directory); most tests run machines in this process
// (one Helper per process that would run there), the rest run the binaries.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache/etcd"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/etcdtest"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }

const (
	fleetUser     = "fleet-svc@example.com"
	fleetPassword = "Fleet-Password-7741"
	profileName   = "m365"
)

// fleet is one test's fleet: the cluster, a vb365 emulator and a key
// prefix of its own.
type fleet struct {
	t       testing.TB
	cluster *etcdtest.Cluster
	em      *emulator.Emulator
	prefix  string
	caFile  string // the emulator's CA
}

func newFleet(t testing.TB) *fleet {
	t.Helper()
	c := etcdtest.Shared(t)
	em, err := emulator.New(emulator.Options{Product: emulator.ProductVB365, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	em.AddUser(fleetUser, fleetPassword)
	caFile := filepath.Join(t.TempDir(), "vb365-ca.pem")
	if err := os.WriteFile(caFile, em.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", testenv.Passphrase)
	t.Setenv("FLEET_USER_PASSWORD", fleetPassword)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return &fleet{t: t, cluster: c, em: em, caFile: caFile, prefix: fmt.Sprintf("/vch-test/%s-%d/", name, time.Now().UnixNano())}
}

// machineOpts changes one machine's configuration from the defaults.
type machineOpts struct {
	endpoints     []string
	caFile        string // of etcd
	certFile      string
	keyFile       string
	localMaxAge   string
	lockTTL       string
	dialTimeout   string
	timeout       string // the profile's, default 60s
	refreshBefore string
	passphraseEnv string
	local         string
	prefix        string
	etcdExtra     string // more [cache.etcd] lines
}

// machine makes a home whose config shares the fleet.
func (f *fleet) machine(o machineOpts) *testenv.Env {
	f.t.Helper()
	e := testenv.New(f.t)
	e.Vars["FLEET_USER_PASSWORD"] = fleetPassword
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	endpoints := o.endpoints
	if endpoints == nil {
		endpoints = f.cluster.Endpoints()
	}
	quoted := make([]string, len(endpoints))
	for i, ep := range endpoints {
		quoted[i] = fmt.Sprintf("%q", ep)
	}
	text := fmt.Sprintf(`[profiles.%s]
product = "vb365"
url = %q
username = '%s'
password_env = "FLEET_USER_PASSWORD"
ca_file = %q
refresh_before = %q
timeout = %q

[cache]
backend = "etcd"
dir = %q
local = %q
local_max_age = %q
passphrase_env = %q

[cache.etcd]
endpoints = [%s]
prefix = %q
ca_file = %q
cert_file = %q
key_file = %q
dial_timeout = %q
lock_ttl = %q
%s
`, profileName, f.em.URL(), fleetUser, f.caFile, def(o.refreshBefore, "10s"), def(o.timeout, "60s"),
		e.CacheDir, def(o.local, "file"), def(o.localMaxAge, "30s"), def(o.passphraseEnv, "VEEAM_CREDENTIAL_HELPER_PASSPHRASE"),
		strings.Join(quoted, ", "), def(o.prefix, f.prefix), def(o.caFile, f.cluster.CAFile), def(o.certFile, f.cluster.CertFile),
		// A generous dial_timeout: 32 race-built processes on a loaded
		// two-core machine must not take the cluster for unreachable.
		def(o.keyFile, f.cluster.KeyFile), def(o.dialTimeout, "20s"), def(o.lockTTL, "5s"), o.etcdExtra)
	if err := os.WriteFile(e.ConfigPath, []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = testenv.Passphrase
	return e
}

// process is one in-process helper run on a machine, as one process there
// would: its own Helper, etcd connection and stderr.
type process struct {
	h       *helper.Helper
	stderr  *testenv.Buffer
	cfg     *config.Config
	cfgPath string
}

func (f *fleet) process(e *testenv.Env) *process {
	f.t.Helper()
	cfg, err := config.Load(e.ConfigPath)
	if err != nil {
		f.t.Fatal(err)
	}
	h := helper.New(cfg)
	buf := &testenv.Buffer{}
	h.Stderr = buf
	f.t.Cleanup(func() {
		if fl, ok := h.Store.(*etcd.Fleet); ok {
			fl.Close()
		}
	})
	return &process{h: h, stderr: buf, cfg: cfg, cfgPath: e.ConfigPath}
}

func (p *process) get(t testing.TB) *helper.Result {
	t.Helper()
	res, err := p.h.Get(context.Background(), helper.Request{Profile: profileName})
	if err != nil {
		t.Fatalf("get: exit %d: %v (stderr %q)", exitcode.Of(err), err, p.stderr.String())
	}
	return res
}

// herd runs perMachine processes on each of machines machines at once, cold.
func (f *fleet) herd(t *testing.T, machines, perMachine int) (tokens map[string]int, sources map[string]int) {
	var procs []*process
	for m := 0; m < machines; m++ {
		e := f.machine(machineOpts{})
		for i := 0; i < perMachine; i++ {
			procs = append(procs, f.process(e))
		}
	}
	results := make([]*helper.Result, len(procs))
	errs := make([]error, len(procs))
	testenv.AtOnce(len(procs), func(i int) {
		results[i], errs[i] = procs[i].h.Get(context.Background(), helper.Request{Profile: profileName})
	})
	tokens, sources = map[string]int{}, map[string]int{}
	for i, res := range results {
		if errs[i] != nil {
			t.Errorf("process %d: exit %d: %v", i, exitcode.Of(errs[i]), errs[i])
			continue
		}
		if s := procs[i].stderr.String(); s != "" {
			t.Errorf("process %d wrote %q", i, s)
		}
		tokens[res.AccessToken]++
		sources[res.Source]++
	}
	return tokens, sources
}

func TestColdMachinesOneGrant(t *testing.T) {
	f := newFleet(t)
	// A slow grant keeps the holder inside it while every other process
	// of every machine arrives.
	f.em.SetDelay(300 * time.Millisecond)
	tokens, sources := f.herd(t, 4, 8)
	n := f.em.Counts()
	if n.TokenCalls != 1 || n.Grants["password"] != 1 {
		t.Errorf("server saw %+v: want exactly one grant for 4 machines x 8 processes", n)
	}
	if len(tokens) != 1 || sources[helper.SourceGrant] != 1 || sources[helper.SourceCache] != 31 {
		t.Errorf("%d distinct tokens, sources %v: want 1 token, 1 grant and 31 cache answers", len(tokens), sources)
	}
	for tok := range tokens {
		if !f.em.Valid(tok) {
			t.Error("the fleet's token is not valid on the server")
		}
	}
}

func TestFreshMachineAnswersTheFleetToken(t *testing.T) {
	f := newFleet(t)
	first := f.process(f.machine(machineOpts{})).get(t)
	if first.Source != helper.SourceGrant {
		t.Fatalf("first machine: source %s, want grant", first.Source)
	}
	fresh := f.machine(machineOpts{})
	second := f.process(fresh).get(t)
	if second.AccessToken != first.AccessToken || second.Source != helper.SourceCache {
		t.Errorf("fresh machine: source %s, same token %v: want the fleet's token from the cache", second.Source, second.AccessToken == first.AccessToken)
	}
	if n := f.em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server saw %d token calls, want 1", n.TokenCalls)
	}
	// The fresh machine keeps a local copy, young, which the front answers.
	p := f.process(fresh)
	ix := frontIndex(t, p.cfgPath)
	prof, _ := ix.Profile(profileName)
	if e, ok := hit.Lookup(ix.Cache(), prof, 0, time.Now()); !ok || e.AccessToken != first.AccessToken {
		t.Error("the front does not answer the machine's young copy of the fleet's token")
	}
	if _, ok := hit.Lookup(ix.Cache(), prof, 0, time.Now().Add(31*time.Second)); ok {
		t.Error("the front answers a copy older than local_max_age")
	}
}

func TestExpiringEverywhereOneRefresh(t *testing.T) {
	f := newFleet(t)
	// A token that lives 15s with refresh_before 10s: fresh for 5s.
	f.em.SetAccessTTL(15 * time.Second)
	var procs []*process
	for m := 0; m < 4; m++ {
		e := f.machine(machineOpts{})
		for i := 0; i < 4; i++ {
			procs = append(procs, f.process(e))
		}
	}
	first := procs[0].get(t)
	for _, p := range procs[1:] {
		if res := p.get(t); res.AccessToken != first.AccessToken {
			t.Fatal("a machine did not take the fleet's token")
		}
	}
	// Six seconds later on every machine: every local copy is young
	// (local_max_age 30s) but inside refresh_before.
	f.em.SetAccessTTL(time.Hour)
	for _, p := range procs {
		p.h.Now = func() time.Time { return time.Now().Add(6 * time.Second) }
	}
	results := make([]*helper.Result, len(procs))
	testenv.AtOnce(len(procs), func(i int) { results[i] = procs[i].get(t) })
	n := f.em.Counts()
	if n.Grants["refresh_token"] != 1 || n.Grants["password"] != 1 || n.RefreshReuse != 0 {
		t.Errorf("server saw %+v: want exactly 1 refresh after the 1 grant, no refresh token reused", n)
	}
	tokens := map[string]bool{}
	for _, r := range results {
		tokens[r.AccessToken] = true
	}
	if len(tokens) != 1 || tokens[first.AccessToken] {
		t.Errorf("%d distinct tokens after the refresh (the old one among them: %v)", len(tokens), tokens[first.AccessToken])
	}
}

func TestNothingReadableInEtcd(t *testing.T) {
	f := newFleet(t)
	res := f.process(f.machine(machineOpts{})).get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := f.cluster.Etcdctl(ctx, "get", "--prefix", f.prefix)
	if err != nil {
		t.Fatal(err)
	}
	// The entry and the passphrase check (sorted by key), each a JWE.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], f.prefix) || lines[2] != f.prefix+"passphrase-check" ||
		!strings.HasPrefix(lines[1], "eyJ") || !strings.HasPrefix(lines[3], "eyJ") {
		t.Fatalf("etcdctl get --prefix: want the entry and the passphrase check, each holding a JWE, got %q", out)
	}
	testenv.NoSecrets(t, "etcdctl get --prefix", out, f.em, res.AccessToken,
		fleetUser, "fleet-svc", fleetPassword, testenv.Passphrase, f.em.URL(), etcdtest.URLHost(f.em.URL()))
}

func TestOneMemberDownStillOneGrant(t *testing.T) {
	f := newFleet(t)
	m := f.cluster.Members[2]
	m.Stop()
	t.Cleanup(func() {
		if err := f.cluster.StartAll(); err != nil {
			t.Fatal(err)
		}
	})
	f.em.SetDelay(200 * time.Millisecond)
	tokens, sources := f.herd(t, 3, 4)
	if n := f.em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server saw %d token calls with one member down, want 1", n.TokenCalls)
	}
	if len(tokens) != 1 || sources[helper.SourceGrant] != 1 {
		t.Errorf("%d tokens, sources %v", len(tokens), sources)
	}
}

func TestLogoutSeenByAnotherMachine(t *testing.T) {
	f := newFleet(t)
	a, b := f.process(f.machine(machineOpts{})), f.process(f.machine(machineOpts{}))
	old := a.get(t).AccessToken
	if b.get(t).AccessToken != old {
		t.Fatal("machine b did not take the fleet's token")
	}
	if err := a.h.Logout(context.Background(), profileName, false); err != nil {
		t.Fatal(err)
	}
	if f.em.Valid(old) {
		t.Fatal("logout left the server session alive")
	}
	// Within local_max_age machine b may still answer its copy...
	bix := frontIndex(t, b.cfgPath)
	prof, _ := bix.Profile(profileName)
	if _, ok := hit.Lookup(bix.Cache(), prof, 0, time.Now()); !ok {
		t.Error("the copy of machine b is young: the front should still answer it")
	}
	// ...and no longer once it is older.
	later := time.Now().Add(31 * time.Second)
	if _, ok := hit.Lookup(bix.Cache(), prof, 0, later); ok {
		t.Error("the front answers a copy older than local_max_age after a logout elsewhere")
	}
	b.h.Now = func() time.Time { return later }
	res := b.get(t)
	if res.AccessToken == old || res.Source != helper.SourceGrant {
		t.Errorf("machine b after local_max_age: source %s, old token %v: want a new grant", res.Source, res.AccessToken == old)
	}
	if !f.em.Valid(res.AccessToken) {
		t.Error("the new token is not valid")
	}
}

// refusal runs one get on a machine with o and wants exit 6 naming why,
// and no login at the server.
func (f *fleet) refusal(t *testing.T, o machineOpts, want string) {
	t.Helper()
	p := f.process(f.machine(o))
	_, err := p.h.Get(context.Background(), helper.Request{Profile: profileName})
	if code := exitcode.Of(err); code != exitcode.Cache {
		t.Fatalf("exit %d (%v), want %d", code, err, exitcode.Cache)
	}
	if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line saying %q", msg, want)
	}
	if n := f.em.Counts(); n.TokenCalls != 0 {
		t.Errorf("server saw %d token calls: a refusing etcd must not become a local session", n.TokenCalls)
	}
	if s := p.stderr.String(); s != "" {
		t.Errorf("stderr %q: a refusal is an error, not a warning", s)
	}
}

func TestClientCertificateRefused(t *testing.T) {
	f := newFleet(t)
	f.refusal(t, machineOpts{certFile: f.cluster.RogueCertFile, keyFile: f.cluster.RogueKeyFile}, "refused the TLS connection")
}

func TestServerCertificateNotTrusted(t *testing.T) {
	f := newFleet(t)
	f.refusal(t, machineOpts{caFile: f.cluster.OtherCAFile}, "cannot verify its certificate")
}

func TestWrongPassphraseForTheFleet(t *testing.T) {
	f := newFleet(t)
	f.process(f.machine(machineOpts{})).get(t)
	f.wrongPassphrase(t, "OTHER_PASSPHRASE")
}

// wrongPassphrase runs a machine whose passphrase (in variable env) is not
// the fleet's: exit 6 naming the variable, and no call to the server
// beyond the first machine's one.
func (f *fleet) wrongPassphrase(t *testing.T, env string) {
	t.Helper()
	t.Setenv(env, "not-the-fleet-passphrase")
	p := f.process(f.machine(machineOpts{passphraseEnv: env}))
	_, err := p.h.Get(context.Background(), helper.Request{Profile: profileName})
	if code := exitcode.Of(err); code != exitcode.Cache || !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), env) {
		t.Fatalf("exit %d (%v), want %d naming the passphrase and its variable", code, err, exitcode.Cache)
	}
	if n := f.em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server saw %d token calls, want only the first machine's", n.TokenCalls)
	}
}

// closedEndpoints are https URLs on loopback ports nothing listens on.
func closedEndpoints(t *testing.T, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "https://"+l.Addr().String())
		l.Close()
	}
	return out
}

// outage checks a call made while etcd cannot be reached: a local grant,
// exactly one warning naming the endpoints, and later calls answered by
// the machine's cache without another warning.
func (f *fleet) outage(t *testing.T, e *testenv.Env, endpoints []string) {
	t.Helper()
	p := f.process(e)
	res := p.get(t)
	if res.Source != helper.SourceGrant {
		t.Errorf("source %s, want a local grant", res.Source)
	}
	warn := p.stderr.String()
	if strings.Count(warn, "\n") != 1 || !strings.Contains(warn, "warning") || !strings.Contains(warn, endpoints[0]) || !strings.Contains(warn, "unreachable") {
		t.Errorf("stderr %q: want one warning naming the endpoints", warn)
	}
	if again := p.get(t); again.Source != helper.SourceCache || again.AccessToken != res.AccessToken {
		t.Errorf("second call: source %s: want the cached token", again.Source)
	}
	if strings.Count(p.stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q: want a single warning per process", p.stderr.String())
	}
	// The front answers the machine's copy: the outage costs no hit.
	ix := frontIndex(t, e.ConfigPath)
	prof, _ := ix.Profile(profileName)
	if _, ok := hit.Lookup(ix.Cache(), prof, 0, time.Now()); !ok {
		t.Error("the front does not answer the local grant's token")
	}
	if n := f.em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server saw %d token calls, want 1", n.TokenCalls)
	}
}

func TestClusterUnreachableLocalGrant(t *testing.T) {
	f := newFleet(t)
	endpoints := closedEndpoints(t, 3)
	f.outage(t, f.machine(machineOpts{endpoints: endpoints}), endpoints)
}

func TestNoQuorumLocalGrant(t *testing.T) {
	f := newFleet(t)
	f.cluster.Members[0].Stop()
	f.cluster.Members[1].Stop()
	t.Cleanup(func() {
		if err := f.cluster.StartAll(); err != nil {
			t.Fatal(err)
		}
	})
	f.outage(t, f.machine(machineOpts{dialTimeout: "1s"}), f.cluster.Endpoints())
}

func TestStatusShowsTheFleet(t *testing.T) {
	f := newFleet(t)
	e := f.machine(machineOpts{})
	p := f.process(e)
	sts, err := p.h.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].Backend != "etcd" || sts[0].Fleet == nil || !sts[0].Fleet.Reachable || !sts[0].Fleet.Healthy || sts[0].Fleet.TokenValid {
		t.Fatalf("status before any grant: %+v (fleet %+v)", sts, sts[0].Fleet)
	}
	p.get(t)
	sts, err = f.process(e).h.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	if fs := sts[0].Fleet; !fs.TokenValid || fs.ValidUntil.IsZero() || len(fs.Endpoints) != 3 {
		t.Errorf("status after a grant: fleet %+v", fs)
	}
}

// frontIndex is the index of the configuration at path that the front reads
// (the engine writes it when it loads the file).
func frontIndex(t *testing.T, path string) *hit.Index {
	t.Helper()
	if _, err := helper.LoadConfig(path); err != nil {
		t.Fatal(err)
	}
	ix, ok := hit.Open(path)
	if !ok {
		t.Fatal("no index of the configuration")
	}
	t.Cleanup(ix.Close)
	return ix
}

// local = "none": nothing on the machine; every call reads etcd, the front
// never answers, and a secret cannot be stored by login.
func TestNoLocalLevel(t *testing.T) {
	f := newFleet(t)
	first := f.process(f.machine(machineOpts{})).get(t)
	e := f.machine(machineOpts{local: "none"})
	p := f.process(e)
	if res := p.get(t); res.Source != helper.SourceCache || res.AccessToken != first.AccessToken {
		t.Errorf("source %s, same token %v: want the fleet's token", res.Source, res.AccessToken == first.AccessToken)
	}
	ix := frontIndex(t, e.ConfigPath)
	prof, _ := ix.Profile(profileName)
	if _, ok := hit.Lookup(ix.Cache(), prof, 0, time.Now()); ok {
		t.Error("the front answered with no local level")
	}
	if entries, _ := os.ReadDir(filepath.Join(e.CacheDir, "tokens")); len(entries) != 0 {
		t.Errorf("%d items on a machine without a local level", len(entries))
	}
	if _, err := p.h.Login(context.Background(), profileName, fleetPassword); exitcode.Of(err) != exitcode.Cache || !strings.Contains(err.Error(), "none") {
		t.Errorf("login without a local level: %v, want exit 6 naming cache.local", err)
	}
}

// A machine with a mistyped passphrase cannot claim an entry of a fleet
// whose passphrase is known (a key not in etcd yet, or after a logout):
// refused before any login, nothing written, and the other machines go on.
func TestMistypedPassphraseCannotClaimTheFleet(t *testing.T) {
	f := newFleet(t)
	a := f.process(f.machine(machineOpts{}))
	a.get(t)
	if err := a.h.Logout(context.Background(), profileName, false); err != nil {
		t.Fatal(err)
	}
	f.wrongPassphrase(t, "TYPED_PASSPHRASE")
	b := f.process(f.machine(machineOpts{}))
	if res := b.get(t); res.Source != helper.SourceGrant {
		t.Errorf("another machine: source %s, want a grant", res.Source)
	}
	if res := a.get(t); res.Source != helper.SourceCache {
		t.Errorf("the first machine again: source %s, want the fleet's token", res.Source)
	}
}

// A machine run once with a mistyped passphrase while etcd was unreachable
// (its local level alone) must not be stuck afterwards: `logout --all`
// (every profile's logout, then the reset of what the passphrase cannot
// open) lets it work again with the right one, as on the file backend.
func TestMistypedPassphraseResetByLogoutAll(t *testing.T) {
	f := newFleet(t)
	closed := closedEndpoints(t, 3)
	e := f.machine(machineOpts{passphraseEnv: "TYPED_PASSPHRASE", endpoints: closed})
	t.Setenv("TYPED_PASSPHRASE", "a-typo")
	f.process(e).get(t)
	text, err := os.ReadFile(e.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	quoted := func(eps []string) string {
		q := make([]string, len(eps))
		for i, ep := range eps {
			q[i] = fmt.Sprintf("%q", ep)
		}
		return strings.Join(q, ", ")
	}
	if err := os.WriteFile(e.ConfigPath, []byte(strings.Replace(string(text), quoted(closed), quoted(f.cluster.Endpoints()), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TYPED_PASSPHRASE", testenv.Passphrase)
	_, err = f.process(e).h.Get(context.Background(), helper.Request{Profile: profileName})
	if code := exitcode.Of(err); code != exitcode.Cache || !strings.Contains(err.Error(), "logout --all") {
		t.Fatalf("right passphrase after a typo: exit %d (%v), want %d naming logout --all", code, err, exitcode.Cache)
	}
	// logout --all, as the command runs it.
	p := f.process(e)
	if err := p.h.Logout(context.Background(), profileName, false); err != nil {
		t.Fatalf("logout: exit %d: %v", exitcode.Of(err), err)
	}
	if _, err := p.h.ClearUndecryptable(); err != nil {
		t.Fatalf("reset: exit %d: %v", exitcode.Of(err), err)
	}
	if res := f.process(e).get(t); res.Source != helper.SourceGrant {
		t.Errorf("after logout --all: source %s, want a grant", res.Source)
	}
}
