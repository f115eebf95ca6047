package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
)

func TestPluginByHandExitsAtOnceWithExit2(t *testing.T) {
	e, _ := vb365Env(t, "")
	for _, tc := range []struct {
		name   string
		cookie string // "" = unset
		want   string
	}{
		{"no cookie", "", "not meant to be run by hand"},
		{"wrong cookie", "1", "not this version's magic cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delete(e.Vars, goplugin.MagicCookieKey)
			if tc.cookie != "" {
				e.Vars[goplugin.MagicCookieKey] = tc.cookie
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := e.RunContext(ctx, "", "plugin")
			if r.Exit != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, tc.want) || !strings.Contains(r.Stderr, "go-plugin") && tc.cookie == "" {
				t.Fatalf("plugin by hand: exit %d after %s\nstdout=%q\nstderr=%q", r.Exit, r.Duration, r.Stdout, r.Stderr)
			}
			if strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Fatalf("want one line on stderr, got %q", r.Stderr)
			}
			if r.Duration > 10*time.Second {
				t.Fatalf("took %s", r.Duration)
			}
		})
	}
	delete(e.Vars, goplugin.MagicCookieKey)
	if r := e.Run("", "plugin", "extra"); r.Exit != 2 {
		t.Fatalf("plugin with an argument: %+v", r)
	}
}

func TestMagicCookieDoesNotHijackOtherCommands(t *testing.T) {
	// A command named on the command line runs even with the cookie set
	// (e.g. a plugin's password_command calling `get`).
	e, _ := vb365Env(t, "")
	e.Vars[goplugin.MagicCookieKey] = goplugin.MagicCookieValue
	r := e.Run("", "get", "--format", "json")
	if a := decode(t, r); r.Exit != 0 || a.Source != "grant" {
		t.Fatalf("get with the cookie set: %+v", r)
	}
	if r := e.Run("", "version"); r.Exit != 0 || !strings.HasPrefix(r.Stdout, "veeam-credential-helper ") {
		t.Fatalf("version with the cookie set: %+v", r)
	}
}

func TestPluginArgs(t *testing.T) {
	t.Setenv(goplugin.MagicCookieKey, goplugin.MagicCookieValue)
	for in, want := range map[string]string{
		"":                          "plugin",
		"--config x":                "--config x plugin",
		"--debug -p m365":           "--debug -p m365 plugin",
		"get":                       "get",
		"--config x get":            "--config x get",
		"plugin":                    "plugin",
		"--bogus":                   "--bogus",
		"--config x --debug status": "--config x --debug status",
	} {
		got := strings.Join(pluginArgs(strings.Fields(in)), " ")
		if got != want {
			t.Errorf("pluginArgs(%q) = %q, want %q", in, got, want)
		}
	}
}
