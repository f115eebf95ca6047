package main

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	m365User     = `corp\svc-backup`
	m365Password = "pw-M365-secret-0001"
)

type answer struct {
	Profile     string    `json:"profile"`
	Product     string    `json:"product"`
	URL         string    `json:"url"`
	Username    string    `json:"username"`
	TokenType   string    `json:"token_type"`
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	Source      string    `json:"source"`
	Error       *struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		ExitCode int    `json:"exit_code"`
	} `json:"error"`
}

func decode(t *testing.T, r testenv.Result) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal([]byte(r.Stdout), &a); err != nil {
		t.Fatalf("stdout is not a JSON answer: %v\nstdout=%q\nstderr=%q", err, r.Stdout, r.Stderr)
	}
	return a
}

// vb365Env is a home with one vb365 profile whose password comes from the environment.
func vb365Env(t *testing.T, set func(*testenv.Profile)) (*testenv.Env, *emulator.Emulator) {
	e := testenv.New(t)
	em := e.M365Profile(emulator.Options{}, m365User, m365Password, "VB365_PASSWORD", func(p *testenv.Profile) {
		p.RefreshBefore = "10s"
		if set != nil {
			set(p)
		}
	})
	return e, em
}

func mustOK(t *testing.T, r testenv.Result) {
	t.Helper()
	if r.Exit != 0 {
		t.Fatalf("exit %d\nstdout=%s\nstderr=%s", r.Exit, r.Stdout, r.Stderr)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
