package helper_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	tsUser     = `corp\svc-library`
	tsPassword = "pw-library-0001"
)

// libraryHome is a testenv home with one vb365 profile "m365" and a
// Helper on its configuration, as a Go program would build one.
func libraryHome(t *testing.T, opts emulator.Options, set func(*testenv.Profile)) (*testenv.Env, *emulator.Emulator, *helper.Helper) {
	t.Helper()
	e := testenv.New(t)
	em := e.M365Profile(opts, tsUser, tsPassword, "VB365_LIBRARY_PASSWORD", set)
	h := e.Helper()
	h.Stderr = &testWriter{t: t}
	return e, em, h
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestTokenSourceOAuth2ClientRenewsAcrossExpiry(t *testing.T) {
	const ttl = 3 * time.Second
	_, em, h := libraryHome(t, emulator.Options{AccessTTL: ttl}, func(p *testenv.Profile) { p.RefreshBefore = "1s" })
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, em.Client())
	rec := testenv.NewRecordingSource(h.TokenSource(ctx, "m365"))
	hc := oauth2.NewClient(ctx, rec)
	calls := testenv.CallFor(t, hc, em, 2*ttl+time.Second)
	c := em.Counts()
	if c.Grants["password"] != 1 || c.Grants["refresh_token"] < 2 || rec.Distinct() < 3 {
		t.Fatalf("%d calls over %s with %s tokens: %d password grants, %d refresh grants, %d distinct tokens",
			calls, 2*ttl+time.Second, ttl, c.Grants["password"], c.Grants["refresh_token"], rec.Distinct())
	}
}

func TestTokenSourceTokenFields(t *testing.T) {
	_, em, h := libraryHome(t, emulator.Options{}, nil)
	ts := h.TokenSource(context.Background(), "m365")
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if !em.Valid(tok.AccessToken) || tok.Type() != "Bearer" || tok.RefreshToken != "" ||
		time.Until(tok.Expiry) < 30*time.Minute || tok.Extra("profile") != "m365" || tok.Extra("source") != helper.SourceGrant {
		t.Fatalf("first token: type %q, refresh token present %v, expiry %s, extras %v %v",
			tok.Type(), tok.RefreshToken != "", tok.Expiry, tok.Extra("profile"), tok.Extra("source"))
	}
	again, err := ts.Token()
	if err != nil || again.AccessToken != tok.AccessToken || again.Extra("source") != helper.SourceCache {
		t.Fatalf("second token: source %v, same %v, err %v", again.Extra("source"), again.AccessToken == tok.AccessToken, err)
	}
	if n := em.Counts().Grants["password"]; n != 1 {
		t.Fatalf("password grants: %d", n)
	}
}

func TestTokenSourceConcurrentCallsOneGrant(t *testing.T) {
	// 50 goroutines of one process on one Helper: the lock file (taken per
	// call, then the entry re-read) lets one of them log in.
	_, em, h := libraryHome(t, emulator.Options{}, nil)
	em.SetDelay(300 * time.Millisecond)
	ts := h.TokenSource(context.Background(), "m365")
	const n = 50
	toks := make([]*oauth2.Token, n)
	errs := make([]error, n)
	testenv.AtOnce(n, func(i int) { toks[i], errs[i] = ts.Token() })
	grants := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if toks[i].AccessToken != toks[0].AccessToken {
			t.Fatalf("call %d got another token", i)
		}
		if toks[i].Extra("source") == helper.SourceGrant {
			grants++
		}
	}
	if c := em.Counts(); c.Grants["password"] != 1 || c.TokenCalls != 1 || grants != 1 {
		t.Fatalf("%d concurrent Token calls: %d password grants, %d token calls, %d answers from a grant; want 1",
			n, c.Grants["password"], c.TokenCalls, grants)
	}
}

// The library and the binary share the cache: the front's hit lookup
// answers the library's token, and a token the engine renewed is the
// library's next answer.
func TestTokenSourceSharesCacheWithBinary(t *testing.T) {
	_, em, h := libraryHome(t, emulator.Options{}, nil)
	tok, err := h.TokenSource(context.Background(), "m365").Token()
	if err != nil {
		t.Fatal(err)
	}
	// The engine's read of the file writes the index the front answers from.
	if _, err := helper.LoadConfig(h.Config.Path); err != nil {
		t.Fatal(err)
	}
	ix, ok := hit.Open(h.Config.Path)
	if !ok {
		t.Fatal("no index of the configuration for the front")
	}
	defer ix.Close()
	p, ok := ix.Profile("m365")
	if !ok {
		t.Fatal("no profile m365 in the index")
	}
	if e, ok := hit.Lookup(ix.Cache(), p, 0, time.Now()); !ok || e.AccessToken != tok.AccessToken {
		t.Fatalf("the front's lookup does not answer the library's token: hit %v, same %v", ok, e.AccessToken == tok.AccessToken)
	}
	engine := helper.New(h.Config)
	renewed, err := engine.Get(context.Background(), helper.Request{Profile: "m365", ForceRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	next, err := h.TokenSource(context.Background(), "m365").Token()
	if err != nil || next.AccessToken != token(renewed) || next.Extra("source") != helper.SourceCache {
		t.Fatalf("library after the engine's refresh: source %v, same %v, err %v", next.Extra("source"), next.AccessToken == token(renewed), err)
	}
	if c := em.Counts(); c.Grants["password"] != 1 || c.Grants["refresh_token"] != 1 {
		t.Fatalf("server saw grants %v", c.Grants)
	}
}

func TestTokenSourceErrorsKeepExitCode(t *testing.T) {
	_, em, h := libraryHome(t, emulator.Options{}, nil)
	t.Setenv("VB365_LIBRARY_PASSWORD", "wrong-password")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, em.Client())
	_, err := h.TokenSource(ctx, "m365").Token()
	if exitcode.Of(err) != exitcode.Rejected || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("bad password: exit %d: %v", exitcode.Of(err), err)
	}
	// Through oauth2.NewClient the error still unwraps to the helper's.
	_, err = oauth2.NewClient(ctx, h.TokenSource(ctx, "m365")).Get(em.URL() + em.ProtectedPath())
	var he *exitcode.Error
	if !errors.As(err, &he) || he.Exit != exitcode.Rejected {
		t.Fatalf("through oauth2.NewClient: %v", err)
	}
	if _, err := h.TokenSource(ctx, "nope").Token(); exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("unknown profile: %v", err)
	}
}
