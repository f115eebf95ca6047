package commands

import (
	"flag"
	"os"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/execcmd"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
)

func prepareExec(fs *flag.FlagSet) func(*cli.Call) error {
	minValid := fs.Duration("min-valid", 0, "the token must stay valid at least `DUR` (e.g. 5m)")
	return func(c *cli.Call) error { return execCommand(c, *minValid) }
}

// execCommand gets the credential first: COMMAND starts only with one.
func execCommand(c *cli.Call, minValid time.Duration) error {
	if len(c.Args) == 0 {
		return exitcode.UsageError("exec needs a command: veeam-credential-helper exec [-p NAME] [--min-valid DUR] -- COMMAND [ARGS…]")
	}
	path, err := execcmd.Lookup(c.Args[0])
	if err != nil {
		return err
	}
	h, err := newHelper(c, true)
	if err != nil {
		return err
	}
	r, err := h.Get(c.Ctx, helper.Request{Profile: c.Profile(), MinValid: minValid})
	if err != nil {
		return err
	}
	code, err := execcmd.Run(path, c.Args, execcmd.Environ(os.Environ(), r.Credential()))
	if err != nil {
		return err
	}
	if code != 0 {
		// COMMAND said why it failed; we only pass its status on.
		return &exitcode.Error{Exit: code}
	}
	return nil
}
