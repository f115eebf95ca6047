package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

func TestPluginByHandExitsAtOnceWithExit2(t *testing.T) {
	e, _ := vb365Env(t, nil)
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
	e, _ := vb365Env(t, nil)
	e.Vars[goplugin.MagicCookieKey] = goplugin.MagicCookieValue
	r := e.Run("", "get", "--format", "json")
	if a := decode(t, r); r.Exit != 0 || a.Source != "grant" {
		t.Fatalf("get with the cookie set: %+v", r)
	}
	if r := e.Run("", "version"); r.Exit != 0 || !strings.HasPrefix(r.Stdout, "veeam-credential-helper ") {
		t.Fatalf("version with the cookie set: %+v", r)
	}
}

// The copies of the handshake strings (they keep gRPC out of this binary)

// are the go-plugin package's.

// Without veeam-credential-helper-plugin next to it or on PATH, plugin mode

// fails at once with one line saying what to install.

func TestPluginBinaryMissing(t *testing.T) {
	e, _ := vb365Env(t, nil)
	dir := t.TempDir()
	alone := filepath.Join(dir, "veeam-credential-helper")
	for _, name := range []string{"veeam-credential-helper", "veeam-credential-helper-engine"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(testenv.Binary(t)), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(alone, "--config", e.ConfigPath)
	cmd.Env = append(e.Environ(), "PATH=/nonexistent", goplugin.MagicCookieKey+"="+goplugin.MagicCookieValue)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || stdout.Len() != 0 ||
		!strings.Contains(stderr.String(), "veeam-credential-helper-plugin") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Fatalf("err=%v stdout=%q stderr=%q", err, stdout.String(), stderr.String())
	}
}
