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
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/hashicorp/go-hclog"

	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin/server"
	"github.com/veeam-tools/veeam-credential-helper/internal/nodump"
)

const notByHand = "`plugin` serves the HashiCorp go-plugin interface (integrations/goplugin) to a host program " +
	"that launches this binary; it is not meant to be run by hand. Ask for a token with `veeam-credential-helper get`"

func main() {
	// Tokens will be in memory.
	nodump.Disable()
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) (code int) {
	defer func() {
		// A panic must never print a stack that could hold a secret.
		if r := recover(); r != nil {
			fmt.Fprintln(stderr, "veeam-credential-helper: internal error (please report it with --debug output)")
			code = helper.ExitUnexpected
		}
	}()
	var config, profile string
	var debug bool
	fs := flag.NewFlagSet("veeam-credential-helper-plugin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&config, "config", "", "configuration file (env VEEAM_CREDENTIAL_HELPER_CONFIG)")
	fs.StringVar(&profile, "profile", "", "default profile (env VEEAM_PROFILE)")
	fs.StringVar(&profile, "p", "", "short for --profile")
	fs.BoolVar(&debug, "debug", false, "debug log lines (never secrets)")
	if err := fs.Parse(args); err != nil {
		return helper.ExitUsage
	}
	fail := func(err error) int {
		e := helper.AsError(err)
		fmt.Fprintf(stderr, "veeam-credential-helper: %s\n", e.Msg)
		return e.Exit
	}
	// `plugin` is what veeam-credential-helper passes; nothing else is taken.
	if rest := fs.Args(); len(rest) > 1 || len(rest) == 1 && rest[0] != "plugin" {
		return fail(helper.UsageError("plugin takes no arguments"))
	}
	switch v, ok := os.LookupEnv(goplugin.MagicCookieKey); {
	case !ok:
		return fail(helper.UsageError("%s", notByHand))
	case v != goplugin.MagicCookieValue:
		return fail(helper.UsageError("%s is set but is not this version's magic cookie: the host was built for another plugin protocol", goplugin.MagicCookieKey))
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
	if debug {
		level = hclog.Debug
	}
	log := hclog.New(&hclog.LoggerOptions{Level: level, Output: stderr, JSONFormat: true})
	if config == "" {
		config = os.Getenv("VEEAM_CREDENTIAL_HELPER_CONFIG")
	}
	if config == "" {
		config = helper.DefaultConfigPath()
	}
	if profile == "" {
		profile = os.Getenv("VEEAM_PROFILE")
	}
	var impl goplugin.CredentialHelper
	cfg, err := helper.LoadConfig(config)
	if err != nil {
		// Serve anyway: every call answers the configuration error, so the
		// host sees the one-line message and its exit code.
		log.Error("configuration", "error", helper.AsError(err).Msg)
		impl = server.Failing(err, log)
	} else {
		h := helper.New(cfg)
		h.Stderr = stderr
		h.Debug = debug
		srv := server.New(h, log)
		srv.DefaultProfile = profile
		impl = srv
	}
	goplugin.Serve(impl, log)
	return helper.ExitOK
}
