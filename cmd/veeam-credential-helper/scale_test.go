package main

// A service provider's configuration: 1,000 profiles. The front answers
// hits from the index of the file; any change of the file sends the next
// call to the engine, which validates every profile again.

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// tenants is n-1 more vb365 profiles, each with its own git host.
func tenants(n int) []testenv.Profile {
	var ps []testenv.Profile
	for i := 1; i < n; i++ {
		ps = append(ps, testenv.Profile{Name: fmt.Sprintf("t%05d", i), Product: "vb365",
			URL: fmt.Sprintf("https://vb365-%d.tenants.example:4443", i), Username: fmt.Sprintf("svc-%d", i),
			PasswordEnv: "VB365_PASSWORD", GitHosts: []string{fmt.Sprintf("git-%d.tenants.example", i)}})
	}
	return ps
}

func TestThousandProfiles(t *testing.T) {
	e, em := vb365Env(t, nil)
	c := e.Config
	c.Profiles = append(c.Profiles, tenants(1000)...)
	e.Write(c)
	mustOK(t, e.Run("", "-p", "m365", "get"))
	front := frontAlone(t)
	// Hits by the front alone, by name and by git host.
	r := runAlone(t, e, front, "", nil, "-p", "m365", "get", "--format", "token")
	if r.Exit != 0 || !strings.HasPrefix(r.Stdout, "vb365-at-") {
		t.Fatalf("get: %+v", r)
	}
	r = runAlone(t, e, front, "protocol=https\nhost="+gitHost(t, em)+"\n\n", nil, "git", "get")
	if r.Exit != 0 || !strings.Contains(r.Stdout, "password=vb365-at-") {
		t.Fatalf("git get: %+v", r)
	}
	r = runAlone(t, e, front, "protocol=https\nhost=git-999.tenants.example\n\n", nil, "git", "get")
	if r.Exit != 1 || !strings.Contains(r.Stderr, "not installed") {
		t.Fatalf("git get of a tenant with no token is the engine's: %+v", r)
	}
	good, err := os.ReadFile(e.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	const url700 = `url = "https://vb365-700.tenants.example:4443"`
	line := strings.Count(string(good[:strings.Index(string(good), url700)]), "\n") + 1
	for _, tc := range []struct{ name, edit, want string }{
		{"unknown key", url700 + "\nurll = 1", fmt.Sprintf(`line %d: unknown configuration key "profiles.t00700.urll"`, line+1)},
		{"wrong type", `url = 7`, fmt.Sprintf("line %d", line)},
		{"literal password", url700 + "\npassword = \"hunter2-literal\"", `profile "t00700": a literal password`},
		{"unquoted password", url700 + "\npassword = hunter2-literal", fmt.Sprintf("line %d", line+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), url700, tc.edit, 1)
			if err := os.WriteFile(e.ConfigPath, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"-p", "m365", "get", "--format", "token"}, {"status"}} {
				r := e.Run("", args...)
				if r.Exit != 2 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 ||
					!strings.Contains(r.Stderr, e.ConfigPath+": ") || !strings.Contains(r.Stderr, tc.want) {
					t.Fatalf("%v after the change: %+v, want exit 2 with %q", args, r, tc.want)
				}
				if strings.Contains(r.Stderr, "hunter2") {
					t.Fatalf("the password in the error: %q", r.Stderr)
				}
			}
		})
	}
	if err := os.WriteFile(e.ConfigPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	mustOK(t, e.Run("", "status"))
	if r := runAlone(t, e, front, "", nil, "-p", "m365", "get", "--format", "token"); r.Exit != 0 {
		t.Fatalf("a hit after the file was mended: %+v", r)
	}
}
