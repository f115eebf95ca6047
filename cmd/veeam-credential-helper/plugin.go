package main

import (
	"flag"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin/server"
)

func init() {
	commands["plugin"] = &command{summary: "serve the HashiCorp go-plugin interface to a host program (not run by hand)", run: runPlugin}
}

// pluginArgs enters plugin mode by itself: when go-plugin's magic cookie is
// in the environment and args name no command (a host launched the bare
// binary), it appends the `plugin` command.
func pluginArgs(args []string) []string {
	if _, ok := os.LookupEnv(goplugin.MagicCookieKey); !ok {
		return args
	}
	var g globals
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return args
	}
	return append(append([]string(nil), args...), "plugin")
}

const notByHand = "`plugin` serves the HashiCorp go-plugin interface (integrations/goplugin) to a host program " +
	"that launches this binary; it is not meant to be run by hand. Ask for a token with `veeam-credential-helper get`"

func runPlugin(c *cmdContext) error {
	if len(c.args) > 0 {
		return helper.UsageError("plugin takes no arguments")
	}
	switch v, ok := os.LookupEnv(goplugin.MagicCookieKey); {
	case !ok:
		return helper.UsageError("%s", notByHand)
	case v != goplugin.MagicCookieValue:
		return helper.UsageError("%s is set but is not this version's magic cookie: the host was built for another plugin protocol", goplugin.MagicCookieKey)
	}
	// go-plugin ignores interrupts (the host's Ctrl-C reaches the whole
	// process group; the host ends its plugins). run() also catches SIGTERM
	// for its context: give SIGTERM its default action back so that the
	// plugin can be stopped.
	signal.Reset(syscall.SIGTERM)
	// A cached answer is a few microseconds of work between gRPC's reader,
	// handler and writer goroutines; with one P they hand over on one
	// thread instead of waking others, which cuts the round trip a host
	// sees by a quarter or more. Grants are network-bound. GOMAXPROCS in the
	// environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	// stdout belongs to go-plugin from here on: logs go to stderr as JSON
	// lines, which the host's go-plugin client re-logs at their level.
	level := hclog.Info
	if c.g.debug {
		level = hclog.Debug
	}
	log := hclog.New(&hclog.LoggerOptions{
		Level:      level,
		Output:     c.io.err,
		JSONFormat: true,
	})
	var impl goplugin.CredentialHelper
	h, err := c.helper(false)
	if err != nil {
		// Serve anyway: every call answers the configuration error, so the
		// host sees the one-line message and its exit code.
		log.Error("configuration", "error", helper.AsError(err).Msg)
		impl = server.Failing(err, log)
	} else {
		h.Debug = c.g.debug
		srv := server.New(h, log)
		srv.DefaultProfile = c.profile() // -p, else VEEAM_PROFILE
		impl = srv
	}
	goplugin.Serve(impl, log)
	return nil
}
