package goplugin

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// fake is an in-memory CredentialHelper.
type fake struct {
	mu          sync.Mutex
	last        Request
	invalidated []string
	err         error
}

func (f *fake) GetCredential(_ context.Context, r Request) (*protocol.Credential, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = r
	if f.err != nil {
		return nil, f.err
	}
	return &protocol.Credential{Profile: "m365", Product: "vb365", URL: "https://vb365:4443", Username: `corp\svc`,
		TokenType: "Bearer", AccessToken: "tok-SECRET", ExpiresAt: time.Unix(1900000000, 0), Source: "cache"}, nil
}

func (f *fake) Invalidate(_ context.Context, profile string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, profile)
	return f.err
}

func (f *fake) ListProfiles(context.Context) ([]Profile, error) {
	return []Profile{{Name: "azure", Product: "vbazure", URL: "https://az", Username: "admin"},
		{Name: "m365", Product: "vb365", URL: "https://vb365:4443", Username: `corp\svc`, Default: true}}, f.err
}

func dial(t *testing.T, f *fake) CredentialHelper {
	t.Helper()
	c, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &Plugin{Impl: f}})
	t.Cleanup(func() { c.Close() })
	raw, err := c.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(CredentialHelper)
}

func TestGRPCRoundTrip(t *testing.T) {
	f := &fake{}
	ch := dial(t, f)
	ctx := context.Background()
	c, err := ch.GetCredential(ctx, Request{Profile: "m365", MinValid: 1500 * time.Millisecond, ForceRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessToken != "tok-SECRET" || c.Profile != "m365" || c.Source != "cache" || c.TokenType != "Bearer" ||
		!c.ExpiresAt.Equal(time.Unix(1900000000, 0)) || c.Username != `corp\svc` || c.URL != "https://vb365:4443" || c.Product != "vb365" {
		t.Fatalf("credential: %v", c)
	}
	if f.last.Profile != "m365" || f.last.MinValid != 2*time.Second || !f.last.ForceRefresh {
		t.Fatalf("request seen by the plugin: %+v (min valid rounds up to whole seconds)", f.last)
	}
	if err := ch.Invalidate(ctx, "m365"); err != nil || len(f.invalidated) != 1 || f.invalidated[0] != "m365" {
		t.Fatalf("invalidate: %v %v", err, f.invalidated)
	}
	ps, err := ch.ListProfiles(ctx)
	if err != nil || len(ps) != 2 || ps[1] != (Profile{Name: "m365", Product: "vb365", URL: "https://vb365:4443", Username: `corp\svc`, Default: true}) || ps[0].Default {
		t.Fatalf("profiles: %+v %v", ps, err)
	}
	if _, err := ch.GetCredential(ctx, Request{MinValid: -time.Second}); exitcode.Of(err) != 2 {
		t.Fatalf("negative min valid: %v", err)
	}
}

func TestGRPCErrorsKeepMessageAndExitCode(t *testing.T) {
	for exit, code := range map[int]string{1: "unexpected", 2: "invalid_configuration", 3: "invalid_credentials", 4: "server_unavailable", 5: "interaction_required", 6: "cache_unavailable"} {
		f := &fake{err: &exitcode.Error{Exit: exit, Msg: fmt.Sprintf("profile \"m365\": failure %d", exit)}}
		ch := dial(t, f)
		_, err := ch.GetCredential(context.Background(), Request{Profile: "m365"})
		var e *exitcode.Error
		if !errors.As(err, &e) || e.Exit != exit || e.Code() != code || e.Msg != fmt.Sprintf("profile \"m365\": failure %d", exit) {
			t.Fatalf("exit %d: got %#v", exit, err)
		}
		if err.Error() != e.Msg || exitcode.Of(err) != exit {
			t.Fatalf("exit %d: Error()=%q ExitCode=%d", exit, err.Error(), exitcode.Of(err))
		}
		if err := ch.Invalidate(context.Background(), "m365"); exitcode.Of(err) != exit {
			t.Fatalf("invalidate exit %d: %v", exit, err)
		}
		if _, err := ch.ListProfiles(context.Background()); exitcode.Of(err) != exit {
			t.Fatalf("list exit %d: %v", exit, err)
		}
	}
	// A plain error is "unexpected" with its text.
	ch := dial(t, &fake{err: errors.New("boom")})
	if _, err := ch.GetCredential(context.Background(), Request{}); exitcode.Of(err) != 1 || err.Error() != "boom" {
		t.Fatalf("plain error: %v", err)
	}
}

func TestCredentialNeverPrintsToken(t *testing.T) {
	c := protocol.Credential{Profile: "m365", AccessToken: "tok-SECRET", ExpiresAt: time.Unix(1900000000, 0), Source: "grant"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprint(&c), fmt.Sprintf("%+v", &c)} {
		if strings.Contains(s, "tok-SECRET") {
			t.Fatalf("token printed: %s", s)
		}
	}
}

func TestTokenSourceConvertsCredential(t *testing.T) {
	f := &fake{}
	ts := TokenSource(context.Background(), dial(t, f), "m365", 5*time.Minute)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok-SECRET" || tok.Type() != "Bearer" || !tok.Expiry.Equal(time.Unix(1900000000, 0)) ||
		tok.Extra("profile") != "m365" || tok.Extra("source") != "cache" || tok.RefreshToken != "" {
		t.Fatalf("token: %+v", tok)
	}
	if f.last.Profile != "m365" || f.last.MinValid != 5*time.Minute {
		t.Fatalf("request: %+v", f.last)
	}
	f.err = &exitcode.Error{Exit: 3, Msg: "rejected"}
	if _, err := ts.Token(); exitcode.Of(err) != 3 {
		t.Fatalf("error: %v", err)
	}
}

func TestHostPackageDoesNotLinkTheEngine(t *testing.T) {
	// Hosts import goplugin; it must not pull in the keyring or the engine.
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := "\n" + string(out)
	for _, imp := range []string{"github.com/veeam-tools/veeam-credential-helper/helper",
		"github.com/veeam-tools/veeam-credential-helper/cache", "github.com/99designs/keyring"} {
		if strings.Contains(deps, "\n"+imp+"\n") {
			t.Errorf("package goplugin depends on %s", imp)
		}
	}
}

// BenchmarkGRPCFake is the gRPC glue's own cost (in-process server, fake
// helper): the floor under BenchmarkPluginCachedGet.
func BenchmarkGRPCFake(b *testing.B) {
	c, _ := plugin.TestPluginGRPCConn(b, false, map[string]plugin.Plugin{PluginName: &Plugin{Impl: &fake{}}})
	defer c.Close()
	raw, err := c.Dispense(PluginName)
	if err != nil {
		b.Fatal(err)
	}
	ch := raw.(CredentialHelper)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ch.GetCredential(ctx, Request{Profile: "m365"}); err != nil {
			b.Fatal(err)
		}
	}
}
