package commands

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func login(c *cli.Call, passwordStdin bool) error {
	if len(c.Args) > 0 {
		return exitcode.UsageError("login takes no arguments (secrets are never accepted in argv; use --password-stdin or the prompt)")
	}
	h, err := newHelper(c, true)
	if err != nil {
		return err
	}
	var secret string
	switch {
	case passwordStdin:
		in := c.Stdin
		if in == nil {
			in = strings.NewReader("")
		}
		b, err := io.ReadAll(io.LimitReader(in, 64<<10))
		if err != nil {
			return exitcode.UsageError("cannot read stdin: %v", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	case h.Prompt != nil:
		p, err := h.Config.Profile(c.Profile())
		if err != nil {
			return err
		}
		if secret, err = h.Prompt(fmt.Sprintf("Password for %s at %s: ", p.Username, p.URL)); err != nil {
			return &exitcode.Error{Exit: exitcode.Interaction, Msg: "cannot read the password from the terminal"}
		}
	default:
		return &exitcode.Error{Exit: exitcode.Interaction, Msg: "login needs --password-stdin or a terminal"}
	}
	r, err := h.Login(c.Ctx, c.Profile(), secret)
	if err != nil {
		return err
	}
	until := "no expiry (static key)"
	if !r.ExpiresAt.IsZero() {
		until = "valid until " + protocol.FormatTime(r.ExpiresAt)
	}
	fmt.Fprintf(c.Stderr, "veeam-credential-helper: logged in to %s as profile %q; secret stored in the %s keyring; token %s\n",
		r.Profile.URL, r.Profile.Name, storeBackend(h), until)
	return nil
}

func storeBackend(h *helper.Helper) string {
	if st, _, err := h.OpenCache(); err == nil {
		return st.Backend()
	}
	return "?"
}

func prepareLogout(fs *flag.FlagSet) func(*cli.Call) error {
	all := fs.Bool("all", false, "every profile")
	forget := fs.Bool("forget-password", false, "also delete the secret stored by login")
	return func(c *cli.Call) error { return logout(c, *all, *forget) }
}

func logout(c *cli.Call, all, forget bool) error {
	h, err := newHelper(c, false)
	if err != nil {
		return err
	}
	names := []string{c.Profile()}
	if all {
		names = h.Config.ProfileNames()
	}
	var first error
	for _, n := range names {
		if err := h.Logout(c.Ctx, n, forget); err != nil && first == nil {
			first = err
		}
	}
	if all && first == nil {
		// The documented reset: what the passphrase at hand cannot open
		// (everything, without one) goes too.
		n, err := h.ClearUndecryptable()
		if n > 0 {
			fmt.Fprintf(c.Stderr, "veeam-credential-helper: removed %d cache item(s) the passphrase does not open (stored logins among them)\n", n)
		}
		return err
	}
	return first
}

func authCode(c *cli.Call) error {
	h, err := newHelper(c, true)
	if err != nil {
		return err
	}
	code, err := h.AuthCode(c.Ctx, c.Profile())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.Stdout, code)
	return err
}

func version(c *cli.Call) error {
	v, commit, gov := helper.BuildInfo()
	_, err := fmt.Fprintf(c.Stdout, "veeam-credential-helper %s (commit %s, %s, %s/%s)\n", v, commit, gov, runtime.GOOS, runtime.GOARCH)
	return err
}
