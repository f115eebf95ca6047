package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

func init() {
	commands["plugin"] = &command{summary: "serve the HashiCorp go-plugin interface to a host program (not run by hand)", run: runPlugin}
}

// The go-plugin handshake's magic cookie: the same strings as
// goplugin.MagicCookieKey / MagicCookieValue (plugin_test.go checks). They
// are copied because importing integrations/goplugin would link gRPC,
// protobuf and go-plugin into this binary, whose package init would then
// run on every cache hit.
const (
	magicCookieKey   = "VEEAM_CREDENTIAL_HELPER_PLUGIN"
	magicCookieValue = "5a88cd38c6d0ba6482a83deb-veeam-credential-helper"
)

// pluginBinary is the program that serves the interface; runPlugin execs it.
const pluginBinary = "veeam-credential-helper-plugin"

// pluginArgs enters plugin mode by itself: when go-plugin's magic cookie is
// in the environment and args name no command (a host launched the bare
// binary), it appends the `plugin` command.
func pluginArgs(args []string) []string {
	if _, ok := os.LookupEnv(magicCookieKey); !ok {
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

const notByHand = "`plugin` serves the HashiCorp go-plugin interface (integrations/goplugin) to a host program " +
	"that launches this binary; it is not meant to be run by hand. Ask for a token with `veeam-credential-helper get`"

// runPlugin checks the handshake, then replaces this process with
// veeam-credential-helper-plugin (same PID, same stdio and environment, so
// the host's go-plugin client cannot tell), found next to this binary or
// else on PATH.
func runPlugin(c *cmdContext) error {
	if len(c.args) > 0 {
		return exitcode.UsageError("plugin takes no arguments")
	}
	switch v, ok := os.LookupEnv(magicCookieKey); {
	case !ok:
		return exitcode.UsageError("%s", notByHand)
	case v != magicCookieValue:
		return exitcode.UsageError("%s is set but is not this version's magic cookie: the host was built for another plugin protocol", magicCookieKey)
	}
	bin, err := findPluginBinary()
	if err != nil {
		return err
	}
	argv := []string{bin}
	if c.g.Config != "" {
		argv = append(argv, "--config", c.g.Config)
	}
	if c.g.Profile != "" {
		argv = append(argv, "--profile", c.g.Profile)
	}
	if c.g.Debug {
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
