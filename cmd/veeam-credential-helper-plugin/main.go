// Command veeam-credential-helper-plugin serves the HashiCorp go-plugin
// interface (integrations/goplugin) of veeam-credential-helper.
//
// Hosts launch `veeam-credential-helper plugin` (or the bare binary with the
// magic cookie set), which replaces itself with this program (exec: same
// process, same stdio). It is a separate binary because gRPC, protobuf and
// go-plugin are a third of the helper's size and their package init runs
// in every process that links them: kept out of veeam-credential-helper,
// they no longer cost every cache hit of kubectl, git or curl (BENCHMARKS.md).
//
// Install it next to veeam-credential-helper (or anywhere on PATH); from a
// checkout, all three programs:
//
//	go install ./cmd/...
package main

import (
	"flag"
	"io"
	"os"
	"runtime"

	"github.com/hashicorp/go-hclog"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin/server"
	"github.com/veeam-tools/veeam-credential-helper/internal/nodump"
)

func main() {
	// Tokens will be in memory.
	nodump.Disable()
	os.Exit(cli.Guard(os.Stderr, func() int { return serve(os.Args[1:], os.Stderr) }))
}

// serve checks the command line and the handshake, then serves the plugin
// until the host ends it; it returns the exit code.
func serve(args []string, stderr io.Writer) int {
	var g cli.Globals
	fs := flag.NewFlagSet("veeam-credential-helper-plugin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.Register(fs)
	if err := fs.Parse(args); err != nil {
		return exitcode.Usage
	}
	// `plugin` is what veeam-credential-helper passes; nothing else is taken.
	if rest := fs.Args(); len(rest) > 1 || len(rest) == 1 && rest[0] != "plugin" {
		return cli.Report(stderr, exitcode.UsageError("plugin takes no arguments"))
	}
	if err := cli.CheckPluginHandshake(); err != nil {
		return cli.Report(stderr, err)
	}
	// A cached answer is a few microseconds of work between gRPC's reader,
	// handler and writer goroutines; with one P they hand over on one
	// thread instead of waking others, which cuts the round trip a host
	// sees by a quarter or more. Grants are network-bound. GOMAXPROCS in the
	// environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	// stdout belongs to go-plugin: logs go to stderr as JSON lines, which
	// the host's go-plugin client re-logs at their level.
	level := hclog.Info
	if g.Debug {
		level = hclog.Debug
	}
	log := hclog.New(&hclog.LoggerOptions{Level: level, Output: stderr, JSONFormat: true})
	var impl goplugin.CredentialHelper
	cfg, err := config.Load(g.ConfigPath(os.Getenv))
	if err != nil {
		// Serve anyway: every call answers the configuration error, so the
		// host sees the one-line message and its exit code.
		log.Error("configuration", "error", exitcode.AsError(err).Msg)
		impl = server.Failing(err, log)
	} else {
		h := helper.New(cfg)
		h.Stderr = stderr
		h.Debug = g.Debug
		srv := server.New(h, log)
		srv.DefaultProfile = g.ProfileName(os.Getenv)
		impl = srv
	}
	goplugin.Serve(impl, log)
	return exitcode.OK
}
