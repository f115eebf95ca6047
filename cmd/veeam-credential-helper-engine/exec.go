package main

import (
	"flag"
	"os"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/execcmd"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
)

func init() {
	commands["exec"] = &command{summary: "run a command with the token in its environment (VEEAM_ACCESS_TOKEN, …)", usage: "[-p NAME] [--min-valid DUR] -- COMMAND [ARGS…]", flags: execFlags, run: runExec}
}

var execOpts struct{ minValid time.Duration }

func execFlags(fs *flag.FlagSet) {
	fs.DurationVar(&execOpts.minValid, "min-valid", 0, "the token must stay valid at least `DUR` (e.g. 5m)")
}

// runExec gets the credential first: COMMAND starts only with one.
func runExec(c *cmdContext) error {
	if len(c.args) == 0 {
		return exitcode.UsageError("exec needs a command: veeam-credential-helper exec [-p NAME] [--min-valid DUR] -- COMMAND [ARGS…]")
	}
	path, err := execcmd.Lookup(c.args[0])
	if err != nil {
		return err
	}
	h, err := c.helper(true)
	if err != nil {
		return err
	}
	r, err := h.Get(c.ctx, helper.Request{Profile: c.profile(), MinValid: execOpts.minValid})
	if err != nil {
		return err
	}
	code, err := execcmd.Run(path, c.args, execcmd.Environ(os.Environ(), credential(r)))
	if err != nil {
		return err
	}
	if code != 0 {
		// COMMAND said why it failed; we only pass its status on.
		return &exitcode.Error{Exit: code}
	}
	return nil
}
