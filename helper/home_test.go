package helper_test

// In-process tests of the engine's flow run helper.Helper against the
// emulator in a throwaway home: no binary is built or started. They read
// the answer through token, expiry and exitOf so that a change of Result or
// of the error helpers is a one-line change here.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// TestMain gives every home's file backend its passphrase once, so that
// tests keep their secrets in files and may run in parallel (t.Setenv
// forbids it).
func TestMain(m *testing.M) {
	os.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", testenv.Passphrase)
	os.Exit(m.Run())
}

func token(r *helper.Result) string     { return r.AccessToken }
func expiry(r *helper.Result) time.Time { return r.ExpiresAt }
func tokenType(r *helper.Result) string { return r.TokenType }
func exitOf(err error) int              { return exitcode.Of(err) }

// home is one configuration, its emulators and a Helper on it, as one
// command of the binary would build it; stderr collects what every Helper
// of the home writes.
type home struct {
	*testenv.Env
	t      *testing.T
	h      *helper.Helper
	stderr testenv.Buffer
}

func newHome(t *testing.T) *home {
	t.Helper()
	return &home{Env: testenv.New(t), t: t}
}

// server starts the home's emulator of product (once per product).
func (x *home) server(product string, opts emulator.Options) *emulator.Emulator {
	x.t.Helper()
	opts.Product = product
	return x.Emulator(opts)
}

// file writes content to a 0600 file of the home and returns its path.
func (x *home) file(name, content string) string {
	x.t.Helper()
	p := filepath.Join(x.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// user is a profile of the product's emulator for username, whose password
// is read from a file of the home.
func (x *home) user(name, product, username, password string) testenv.Profile {
	x.t.Helper()
	p := x.ProfileOf(name, product)
	p.Username = username
	p.PasswordFile = x.file(name+".password", password+"\n")
	return p
}

// use writes a configuration of the profiles and starts a new command on it.
func (x *home) use(ps ...testenv.Profile) *helper.Helper {
	x.t.Helper()
	x.Profiles(ps...)
	return x.command()
}

// write writes c and starts a new command on it.
func (x *home) write(c testenv.Config) *helper.Helper {
	x.t.Helper()
	x.Write(c)
	return x.command()
}

// command is a new Helper on the home's configuration file: what a new
// process of the binary would use (its own HTTP clients and warnings).
func (x *home) command() *helper.Helper {
	x.t.Helper()
	cfg, err := config.Load(x.ConfigPath)
	if err != nil {
		x.t.Fatalf("config: %v\n%s", err, x.Config.TOML())
	}
	x.h = helper.New(cfg)
	x.h.Stderr = &x.stderr
	return x.h
}

// get runs the flow for a profile with no other request.
func (x *home) get(profile string) (*helper.Result, error) {
	return x.do(helper.Request{Profile: profile})
}

func (x *home) do(r helper.Request) (*helper.Result, error) {
	x.t.Helper()
	return x.h.Get(x.t.Context(), r)
}

// mustGet is do that fails the test on an error and checks the source.
func (x *home) mustGet(r helper.Request, source string) *helper.Result {
	x.t.Helper()
	res, err := x.do(r)
	if err != nil {
		x.t.Fatalf("Get %+v: %v", r, err)
	}
	if res.Source != source {
		x.t.Fatalf("Get %+v: source %s, want %s", r, res.Source, source)
	}
	return res
}

// fail runs a request that must fail with exit code want and returns the
// error's one-line message.
func (x *home) fail(r helper.Request, want int) string {
	x.t.Helper()
	res, err := x.do(r)
	if err == nil {
		x.t.Fatalf("Get %+v: answered (source %s), want exit %d", r, res.Source, want)
	}
	if got := exitOf(err); got != want {
		x.t.Fatalf("Get %+v: exit %d, want %d: %v", r, got, want, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		x.t.Errorf("error is not one line: %q", msg)
	}
	return msg
}

// later moves the current Helper's clock forward by d.
func (x *home) later(d time.Duration) {
	x.h.Now = func() time.Time { return time.Now().Add(d) }
}

// status is the home's status line of a profile.
func (x *home) status(profile string) helper.Status {
	x.t.Helper()
	all, err := x.h.Statuses()
	if err != nil {
		x.t.Fatal(err)
	}
	for _, s := range all {
		if s.Profile == profile {
			return s
		}
	}
	x.t.Fatalf("no status for %q", profile)
	return helper.Status{}
}

func (x *home) logout(profile string) {
	x.t.Helper()
	if err := x.h.Logout(x.t.Context(), profile, false); err != nil {
		x.t.Fatalf("logout %s: %v", profile, err)
	}
}

// noLeak fails the test when s holds one of the secrets or a prefix of a
// token that em issues.
func noLeak(t *testing.T, what, s string, em *emulator.Emulator, secrets ...string) {
	t.Helper()
	testenv.NoSecrets(t, what, s, em, append(secrets, emulator.StackTraceMarker)...)
}
