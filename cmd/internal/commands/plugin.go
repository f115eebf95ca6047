package commands

import (
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// pluginBinary is the program that serves the interface; plugin execs it.
const pluginBinary = "veeam-credential-helper-plugin"

// pluginArgs enters plugin mode by itself: when go-plugin's magic cookie is
// in the environment and args name no command (a host launched the bare
// binary), it appends the `plugin` command.
func pluginArgs(args []string) []string {
	if _, ok := os.LookupEnv(cli.MagicCookieKey); !ok {
		return args
	}
	var g cli.Globals
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.Register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return args
	}
	return append(append([]string(nil), args...), "plugin")
}

// plugin checks the handshake, then replaces this process with
// veeam-credential-helper-plugin (same PID, same stdio and environment, so
// the host's go-plugin client cannot tell), found next to this binary or
// else on PATH.
func plugin(c *cli.Call) error {
	if len(c.Args) > 0 {
		return exitcode.UsageError("plugin takes no arguments")
	}
	if err := cli.CheckPluginHandshake(); err != nil {
		return err
	}
	bin, err := findPluginBinary()
	if err != nil {
		return err
	}
	argv := []string{bin}
	if c.Globals.Config != "" {
		argv = append(argv, "--config", c.Globals.Config)
	}
	if c.Globals.Profile != "" {
		argv = append(argv, "--profile", c.Globals.Profile)
	}
	if c.Globals.Debug {
		argv = append(argv, "--debug")
	}
	argv = append(argv, "plugin")
	return execPlugin(bin, argv)
}

func findPluginBinary() (string, error) {
	if p, err := cli.FindSibling(pluginBinary); err == nil {
		return p, nil
	} else if !errors.Is(err, exec.ErrNotFound) {
		return "", &exitcode.Error{Exit: exitcode.Usage, Msg: "cannot run " + pluginBinary + ": " + err.Error()}
	}
	return "", exitcode.UsageError("plugin mode is served by %s, which is neither next to this binary nor on PATH: "+
		"the three programs of cmd/ go together (from a checkout: go install ./cmd/...)", pluginBinary)
}
