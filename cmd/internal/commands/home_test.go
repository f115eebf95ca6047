package commands

// The engine's command lines run in this process against the emulator:
// flags, formats, exit codes, JSON error bodies, what reaches stdout and
// stderr. What needs processes (the front's exec and stdin hand-over,
// signals, the process herd, real clients) is tested in
// cmd/veeam-credential-helper.

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	m365User     = `corp\svc-backup`
	m365Password = "pw-M365-cli-0001"
)

// home is a testenv home whose Run runs the engine in process: Vars are the
// process environment for the run (secret sources and the cache's
// passphrase read it) and what getenv answers.
type home struct {
	*testenv.Env
	t   *testing.T
	set map[string]bool // variables this home ever put in the environment
}

func newHome(t *testing.T) *home {
	return &home{Env: testenv.New(t), t: t, set: map[string]bool{}}
}

// Run runs one command line of the engine with stdin.
func (e *home) Run(stdin string, args ...string) testenv.Result {
	e.t.Helper()
	for k := range e.set {
		if _, ok := e.Vars[k]; !ok {
			e.t.Setenv(k, "") // deleted from Vars: unset for this run
		}
	}
	for k, v := range e.Vars {
		e.t.Setenv(k, v)
		e.set[k] = true
	}
	getenv := func(k string) string {
		if k == cli.EnvConfig {
			return e.ConfigPath
		}
		return e.Vars[k]
	}
	var out, errb bytes.Buffer
	start := time.Now()
	code := Run(args, strings.NewReader(stdin), &out, &errb, getenv)
	return testenv.Result{Stdout: out.String(), Stderr: errb.String(), Exit: code, Duration: time.Since(start)}
}

// vb365Env is a home with one vb365 profile "m365" whose password is in
// $VB365_PASSWORD; set (may be nil) changes the profile.
func vb365Env(t *testing.T, set func(*testenv.Profile)) (*home, *emulator.Emulator) {
	e := newHome(t)
	em := e.M365Profile(emulator.Options{}, m365User, m365Password, "VB365_PASSWORD", func(p *testenv.Profile) {
		p.RefreshBefore = "10s"
		if set != nil {
			set(p)
		}
	})
	return e, em
}

// assertOneLineNoLeak checks a failure's output: one line on stderr and
// none of the given strings anywhere.
func assertOneLineNoLeak(t *testing.T, r testenv.Result, forbidden ...string) {
	t.Helper()
	if strings.Count(r.Stderr, "\n") != 1 || !strings.HasSuffix(r.Stderr, "\n") {
		t.Errorf("stderr is not exactly one line: %q", r.Stderr)
	}
	if len(r.Stderr) > 600 {
		t.Errorf("stderr line is %d bytes: a body was dumped? %q", len(r.Stderr), r.Stderr)
	}
	testenv.NoSecrets(t, "output (stdout then stderr)", r.Stdout+r.Stderr, nil, forbidden...)
}

func gitHost(em *emulator.Emulator) string { return strings.TrimPrefix(em.URL(), "https://") }

// get's answer, read as testenv reads it.
type answer = testenv.Answer

var (
	decode = testenv.Decode
	mustOK = testenv.MustOK
)
