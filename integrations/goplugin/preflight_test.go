package goplugin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// copyPrograms copies the named programs of the test build into a fresh
// directory and returns it.
func copyPrograms(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(testenv.Binary(t)), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A host pointed at a lone veeam-credential-helper learns which program is
// missing, not go-plugin's "plugin exited" or "unrecognized message".
func TestNewClientNamesTheMissingProgram(t *testing.T) {
	e, _ := home(t, emulator.Options{}, nil)
	for _, tc := range []struct {
		have    []string
		missing string
	}{
		{[]string{"veeam-credential-helper"}, "veeam-credential-helper-engine"},
		{[]string{"veeam-credential-helper", "veeam-credential-helper-engine"}, "veeam-credential-helper-plugin"},
	} {
		dir := copyPrograms(t, tc.have...)
		env := append(e.Environ(), "PATH=/nonexistent")
		c, err := goplugin.NewClient(filepath.Join(dir, "veeam-credential-helper"), goplugin.ClientOptions{Env: env, SkipHostEnv: true})
		if err == nil {
			c.Close()
			t.Fatalf("%v: NewClient succeeded", tc.have)
		}
		if !strings.Contains(err.Error(), tc.missing+" is not installed") || strings.Contains(err.Error(), "Unrecognized") {
			t.Errorf("%v: %v", tc.have, err)
		}
	}
	if _, err := goplugin.NewClient(filepath.Join(t.TempDir(), "nothing"), goplugin.ClientOptions{}); err == nil || !strings.Contains(err.Error(), "is not a program") {
		t.Errorf("no program at all: %v", err)
	}
}

// A plugin that stops before the handshake: the host's error starts with
// the helper's own line from the plugin's stderr.
func TestNewClientShowsThePluginsOwnLine(t *testing.T) {
	e, _ := home(t, emulator.Options{}, nil)
	_, err := goplugin.NewClient(testenv.Binary(t), goplugin.ClientOptions{
		Env: e.Environ(), SkipHostEnv: true, Args: []string{"--no-such-flag", "plugin"},
	})
	if err == nil || !strings.HasPrefix(err.Error(), "veeam-credential-helper: ") || !strings.Contains(err.Error(), "no-such-flag") {
		t.Fatalf("%v", err)
	}
}
