package main

import (
	"os"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	m365User     = `corp\svc-backup`
	m365Password = "pw-M365-secret-0001"
)

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

// get's answer, read as testenv reads it.
type answer = testenv.Answer

var (
	decode = testenv.Decode
	mustOK = testenv.MustOK
)
