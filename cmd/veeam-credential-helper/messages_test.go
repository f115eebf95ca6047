package main

import (
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// git run as `-p NAME git` for a host that is not NAME's: a clear error,
// never another profile's token (also when that token is cached).
func TestGitProfileFlagForAnotherHost(t *testing.T) {
	e := testenv.New(t)
	m365 := e.Emulator(emulator.Options{Product: "vb365"})
	azure := e.Emulator(emulator.Options{Product: "vbazure"})
	m365.AddUser("alice", "pw-alice-Z1")
	azure.AddUser("bob", "pw-bob-Z2")
	e.Vars["PW_A"], e.Vars["PW_B"] = "pw-alice-Z1", "pw-bob-Z2"
	a := e.UserProfile("m365", "vb365", "alice", "PW_A")
	b := e.UserProfile("azure", "vbazure", "bob", "PW_B")
	e.Profiles(a, b)
	mustOK(t, e.Run("", "-p", "azure", "get", "--no-stdin")) // azure's token is cached: the front could answer it
	in := "protocol=https\nhost=" + gitHost(t, m365) + "\n\n"
	r := e.Run(in, "-p", "azure", "git", "get")
	if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, `profile "azure"`) || !strings.Contains(r.Stderr, gitHost(t, m365)) ||
		strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("exit %d stdout %q stderr %q", r.Exit, r.Stdout, r.Stderr)
	}
	r = e.Run(in, "-p", "m365", "git", "get")
	mustOK(t, r)
	if f := gitFields(r.Stdout); f["username"] != "alice" || !m365.Valid(f["password"]) {
		t.Errorf("-p m365: %q", r.Stdout)
	}
}
