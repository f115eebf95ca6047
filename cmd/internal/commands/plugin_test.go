package commands

import (
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
)

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

func TestMagicCookieCopies(t *testing.T) {
	if cli.MagicCookieKey != goplugin.MagicCookieKey || cli.MagicCookieValue != goplugin.MagicCookieValue {
		t.Fatalf("magic cookie copies %q=%q differ from goplugin's %q=%q", cli.MagicCookieKey, cli.MagicCookieValue, goplugin.MagicCookieKey, goplugin.MagicCookieValue)
	}
}
