package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// status: the default marker, relative times, -p with a name or a glob,
// and a cache it cannot read shown in the error column with exit 6.
func TestStatusFilterDefaultAndCacheErrors(t *testing.T) {
	e, _ := vb365Env(t, nil)
	other := testenv.Profile{Name: "other", Product: "vbr", URL: "https://127.0.0.1:1", Username: "x", PasswordEnv: "NONE"}
	e.Write(testenv.Config{DefaultProfile: "m365", Profiles: []testenv.Profile{other, e.Config.Profiles[0]}})
	mustOK(t, e.Run("", "get", "--no-stdin"))

	r := e.Run("", "status")
	mustOK(t, r)
	if !strings.Contains(r.Stdout, "m365 (default)") || !strings.Contains(r.Stdout, "valid 59m (until ") || !strings.Contains(r.Stdout, "SECRET STORED") {
		t.Errorf("status:\n%s", r.Stdout)
	}
	r = e.Run("", "status", "-p", "oth*", "--json")
	mustOK(t, r)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil || len(rows) != 1 || rows[0]["profile"] != "other" ||
		rows[0]["access_token_valid_until"] != nil || rows[0]["default"] != false {
		t.Errorf("-p oth* --json: %v %s", err, r.Stdout)
	}
	if r = e.Run("", "status", "-p", "nope"); r.Exit != 2 || !strings.Contains(r.Stderr, `unknown profile "nope"`) || r.Stdout != "" {
		t.Errorf("-p nope: %+v", r)
	}

	e.Vars["VEEAM_CREDENTIAL_HELPER_PASSPHRASE"] = "not-the-passphrase-93"
	r = e.Run("", "status", "-p", "m365")
	if r.Exit != 6 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "ERROR column") {
		t.Fatalf("wrong passphrase: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "passphrase") || !strings.Contains(lines[1], " none ") {
		t.Errorf("wrong passphrase, table:\n%s", r.Stdout)
	}
	r = e.Run("", "status", "--json")
	if r.Exit != 6 || json.Unmarshal([]byte(r.Stdout), &rows) != nil || len(rows) != 2 || rows[0]["error"] == nil {
		t.Errorf("wrong passphrase, --json: %+v", r)
	}
	assertOneLineNoLeak(t, r, "not-the-passphrase-93")
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
