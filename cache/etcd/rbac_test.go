package etcd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/internal/etcdtest"
)

// TestRBAC runs the fleet against a cluster with authentication on: a role
// limited to one prefix, granted to the client certificate's user (its
// common name) and to a user with a password. Inside the prefix it works;
// outside it, or with a wrong password, etcd refuses: exit 6.
func TestRBAC(t *testing.T) {
	etcdtest.Shared(t) // skips or fails as the package's other tests do
	bin, err := etcdtest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	c, err := etcdtest.Start(bin, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"user", "add", "root:root-pw-1", "--interactive=false"},
		{"role", "add", "helper-role"},
		{"role", "grant-permission", "helper-role", "--prefix=true", "readwrite", "/allowed/"},
		{"user", "add", etcdtest.ClientCommonName + ":unused-pw-2", "--interactive=false"},
		{"user", "grant-role", etcdtest.ClientCommonName, "helper-role"},
		{"user", "add", "helper:helper-pw-3", "--interactive=false"},
		{"user", "grant-role", "helper", "helper-role"},
		{"auth", "enable"},
	} {
		if _, err := c.Etcdctl(ctx, args...); err != nil {
			t.Fatal(err)
		}
	}
	f := newFleet(t)
	t.Setenv("ETCD_HELPER_PASSWORD", "helper-pw-3")
	t.Setenv("ETCD_WRONG_PASSWORD", "not-the-password")
	at := func(prefix, extra string) machineOpts {
		return machineOpts{endpoints: c.Endpoints(), caFile: c.CAFile, certFile: c.CertFile, keyFile: c.KeyFile, prefix: prefix, etcdExtra: extra}
	}

	first := f.process(f.machine(at("/allowed/fleet/", ""))).get(t)
	second := f.process(f.machine(at("/allowed/fleet/", `username = "helper"`+"\n"+`password_env = "ETCD_HELPER_PASSWORD"`))).get(t)
	if first.Source != helper.SourceGrant || second.Source != helper.SourceCache || second.AccessToken != first.AccessToken {
		t.Errorf("inside the role's prefix: sources %s and %s, same token %v: want one grant shared", first.Source, second.Source, second.AccessToken == first.AccessToken)
	}

	for _, tc := range []struct {
		name string
		o    machineOpts
		want string
	}{
		{"outside the prefix", at("/denied/", ""), "permission denied"},
		{"wrong password", at("/allowed/fleet/", `username = "helper"`+"\n"+`password_env = "ETCD_WRONG_PASSWORD"`), "authentication failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.process(f.machine(tc.o))
			_, err := p.h.Get(context.Background(), helper.Request{Profile: profileName})
			if code := exitcode.Of(err); code != exitcode.Cache || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("exit %d (%v): want %d saying %q", code, err, exitcode.Cache, tc.want)
			}
			if s := p.stderr.String(); s != "" {
				t.Errorf("stderr %q", s)
			}
		})
	}
	if n := f.em.Counts(); n.TokenCalls != 1 {
		t.Errorf("server saw %d token calls, want the first machine's grant only", n.TokenCalls)
	}
}
