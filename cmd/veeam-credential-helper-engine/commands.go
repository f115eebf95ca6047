package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func init() {
	commands["get"] = &command{summary: "print a credential (--format json|token|header|curl|env)", flags: getFlags, run: runGet}
	commands["login"] = &command{summary: "store the profile's password in the keyring (--password-stdin) and prove it", flags: loginFlags, run: runLogin}
	commands["logout"] = &command{summary: "revoke the server session and delete cached tokens (--all, --forget-password)", flags: logoutFlags, run: runLogout}
	commands["status"] = &command{summary: "show every profile's cache state, never a secret (--json)", flags: statusFlags, run: runStatus}
	commands["auth-code"] = &command{summary: "VB365: print a fresh one-time authorization code", run: runAuthCode}
	commands["version"] = &command{summary: "print version, commit and Go version", run: runVersion}
}

var getOpts cli.GetFlags

func getFlags(fs *flag.FlagSet) { getOpts.Register(fs) }

// credential converts the engine's result to the wire type.
func credential(r *helper.Result) protocol.Credential {
	return cli.Credential(r.Profile, r.Entry, r.Source)
}

func runGet(c *cmdContext) error {
	if len(c.args) > 0 {
		return helper.UsageError("get takes no arguments (secrets are never accepted in argv; send them as JSON on stdin)")
	}
	format := getOpts.Format
	if !slices.Contains(protocol.Formats(), format) {
		return helper.UsageError("unknown format %q (known: %s)", format, strings.Join(protocol.Formats(), ", "))
	}
	err := func() error {
		opts, profile := getOpts, c.profile()
		var jr protocol.Request
		if !opts.NoStdin && !c.stdinIsTerminal() && c.io.in != nil {
			var err error
			if jr, err = protocol.DecodeRequest(c.io.in); err != nil {
				return cli.RequestError(err)
			}
			cli.ApplyRequest(jr, c.g.Profile, &profile, &opts)
		}
		req := helper.Request{Profile: profile, MinValid: opts.MinValid, ForceRefresh: opts.ForceRefresh,
			Password: jr.Password, MFACode: jr.MFACode, Assertion: jr.Assertion}
		h, err := c.helper(true)
		if err != nil {
			return err
		}
		r, err := h.Get(c.ctx, req)
		if err != nil {
			return err
		}
		return protocol.Write(c.io.out, format, credential(r))
	}()
	if err != nil && format == protocol.FormatJSON {
		e := helper.AsError(err)
		_ = protocol.WriteError(c.io.out, protocol.ErrorBody{Code: e.Code(), Message: e.Msg, ExitCode: e.Exit})
	}
	return err
}

var loginOpts struct{ passwordStdin bool }

func loginFlags(fs *flag.FlagSet) {
	fs.BoolVar(&loginOpts.passwordStdin, "password-stdin", false, "read the password (or assertion) from stdin")
}

func runLogin(c *cmdContext) error {
	if len(c.args) > 0 {
		return helper.UsageError("login takes no arguments (secrets are never accepted in argv; use --password-stdin or the prompt)")
	}
	h, err := c.helper(true)
	if err != nil {
		return err
	}
	var secret string
	switch {
	case loginOpts.passwordStdin:
		b, err := io.ReadAll(io.LimitReader(c.io.in, 64<<10))
		if err != nil {
			return helper.UsageError("cannot read stdin: %v", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	case h.Prompt != nil:
		p, err := h.Config.Profile(c.profile())
		if err != nil {
			return err
		}
		if secret, err = h.Prompt(fmt.Sprintf("Password for %s at %s: ", p.Username, p.URL)); err != nil {
			return &helper.Error{Exit: helper.ExitInteraction, Msg: "cannot read the password from the terminal"}
		}
	default:
		return &helper.Error{Exit: helper.ExitInteraction, Msg: "login needs --password-stdin or a terminal"}
	}
	r, err := h.Login(c.ctx, c.profile(), secret)
	if err != nil {
		return err
	}
	until := "no expiry (static key)"
	if !r.Entry.ExpiresAt.IsZero() {
		until = "valid until " + protocol.FormatTime(r.Entry.ExpiresAt)
	}
	fmt.Fprintf(c.io.err, "veeam-credential-helper: logged in to %s as profile %q; secret stored in the %s keyring; token %s\n",
		r.Profile.URL, r.Profile.Name, storeBackend(h), until)
	return nil
}

func storeBackend(h *helper.Helper) string {
	if st, _, err := h.OpenCache(); err == nil {
		return st.Backend()
	}
	return "?"
}

var logoutOpts struct{ all, forget bool }

func logoutFlags(fs *flag.FlagSet) {
	fs.BoolVar(&logoutOpts.all, "all", false, "every profile")
	fs.BoolVar(&logoutOpts.forget, "forget-password", false, "also delete the secret stored by login")
}

func runLogout(c *cmdContext) error {
	h, err := c.helper(false)
	if err != nil {
		return err
	}
	names := []string{c.profile()}
	if logoutOpts.all {
		names = h.Config.ProfileNames()
	}
	var first error
	for _, n := range names {
		if err := h.Logout(c.ctx, n, logoutOpts.forget); err != nil && first == nil {
			first = err
		}
	}
	if logoutOpts.all && first == nil {
		// The documented reset: what the passphrase at hand cannot open
		// (everything, without one) goes too.
		n, err := h.ClearUndecryptable()
		if n > 0 {
			fmt.Fprintf(c.io.err, "veeam-credential-helper: removed %d cache item(s) the passphrase does not open (stored logins among them)\n", n)
		}
		return err
	}
	return first
}

func runAuthCode(c *cmdContext) error {
	h, err := c.helper(true)
	if err != nil {
		return err
	}
	code, err := h.AuthCode(c.ctx, c.profile())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.io.out, code)
	return err
}

func runVersion(c *cmdContext) error {
	v, commit, gov := helper.BuildInfo()
	_, err := fmt.Fprintf(c.io.out, "veeam-credential-helper %s (commit %s, %s, %s)\n", v, commit, gov, osArch())
	return err
}

func osArch() string { return runtimeGOOS + "/" + runtimeGOARCH }
