package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Source answers the credentials of get, exec-credential and git.
type Source interface {
	// Credential answers r's profile's credential.
	Credential(ctx context.Context, r Request) (protocol.Credential, error)
	// GitProfile names the profile git's request is for, "" when no
	// profile serves the host: config.Config.GitProfileFor with -p
	// (flagProfile) and $VEEAM_PROFILE (envProfile).
	GitProfile(req protocol.GitRequest, flagProfile, envProfile string) (string, error)
	// Invalidate drops profile's cached access token if it is still token.
	Invalidate(ctx context.Context, profile, token string) error
}

// ExecInfoReader is a Source that reads KUBERNETES_EXEC_INFO itself: the
// front's, whose strict reader spares encoding/json's reflection on every
// kubectl call (anything it doubts is ErrMiss).
type ExecInfoReader interface {
	ExecInfo(env string) (protocol.ExecInfo, error)
}

// ErrMiss is the front's Source's answer for anything but a cache hit.
var ErrMiss = errors.New("not a cache hit: the engine answers")

// Request asks a Source for a credential.
type Request struct {
	// Profile is the profile's name; "" means default_profile or the only one.
	Profile string
	// MinValid is how long the token must stay valid at least.
	MinValid time.Duration
	// ForceRefresh renews the token even when the cached one is good.
	ForceRefresh bool
	// Password, MFACode and Assertion come from get's JSON request.
	Password, MFACode, Assertion string
	// Interactive allows a prompt on the terminal (when stdin is one).
	Interactive bool
}

// HitCommands are the commands whose answer may come from the cache alone:
// the front runs them with its hit source, the engine with its own.
func HitCommands() []Command {
	return []Command{
		{Name: "get", Summary: "print a credential (--format json|token|header|curl|env)", Prepare: prepareGet},
		{Name: "exec-credential", Summary: "kubectl / client-go exec credential plugin (reads KUBERNETES_EXEC_INFO)", Prepare: NoFlags(execCredential)},
		{Name: "git", Usage: "get|store|erase", Summary: "git credential helper: get | store | erase (credential.helper = \"/path/veeam-credential-helper git\")", Prepare: NoFlags(git)},
	}
}

func prepareGet(fs *flag.FlagSet) func(*Call) error {
	var o GetFlags
	o.Register(fs)
	return func(c *Call) error { return get(c, o) }
}

// get prints a credential in o.Format; with the json format an error is
// also answered on stdout as the protocol's error object.
func get(c *Call, o GetFlags) error {
	if len(c.Args) > 0 {
		return exitcode.UsageError("get takes no arguments (secrets are never accepted in argv; send them as JSON on stdin)")
	}
	if !slices.Contains(protocol.Formats(), o.Format) {
		return exitcode.UsageError("unknown format %q (known: %s)", o.Format, strings.Join(protocol.Formats(), ", "))
	}
	err := func() error {
		profile := c.Profile()
		var jr protocol.Request
		if !o.NoStdin && c.Stdin != nil && !c.StdinIsTerminal() {
			var err error
			if jr, err = protocol.DecodeRequest(c.Stdin); err != nil {
				return RequestError(err)
			}
			ApplyRequest(jr, c.Globals.Profile, &profile, &o)
		}
		cred, err := c.Source.Credential(c.Ctx, Request{Profile: profile, MinValid: o.MinValid, ForceRefresh: o.ForceRefresh,
			Password: jr.Password, MFACode: jr.MFACode, Assertion: jr.Assertion, Interactive: true})
		if err != nil {
			return err
		}
		return protocol.Write(c.Stdout, o.Format, cred)
	}()
	if err != nil && o.Format == protocol.FormatJSON {
		e := exitcode.AsError(err)
		_ = protocol.WriteError(c.Stdout, protocol.ErrorBody{Code: e.Code(), Message: e.Msg, ExitCode: e.Exit})
	}
	return err
}

// execCredential is client-go's exec plugin: KUBERNETES_EXEC_INFO in, one
// ExecCredential of the same apiVersion out. Errors go to stderr only
// (client-go shows the plugin's stderr and its exit code); stdout stays
// empty so client-go never parses half an answer.
func execCredential(c *Call) error {
	if len(c.Args) > 0 {
		return exitcode.UsageError("exec-credential takes no arguments (set the profile with -p in the kubeconfig's exec.args)")
	}
	parse := protocol.ParseExecInfo
	if r, ok := c.Source.(ExecInfoReader); ok {
		parse = r.ExecInfo
	}
	info, err := parse(c.Getenv("KUBERNETES_EXEC_INFO"))
	if err != nil {
		return exitcode.UsageError("%v", err)
	}
	// spec.interactive false means never prompt, whatever stdin is; true
	// still needs a terminal on stdin.
	cred, err := c.Source.Credential(c.Ctx, Request{Profile: c.Profile(), Interactive: info.Interactive})
	if err != nil {
		return err
	}
	return protocol.WriteExecCredential(c.Stdout, info.APIVersion, cred.AccessToken, cred.ExpiresAt)
}

// git answers git's credential helper protocol
// (https://git-scm.com/docs/gitcredentials#_custom_helpers). A host no
// profile matches gets no answer and exit 0, so git asks its other helpers.
func git(c *Call) error {
	if len(c.Args) != 1 {
		return exitcode.UsageError("usage: veeam-credential-helper git get|store|erase (git runs it; see README: git)")
	}
	in := c.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	action := c.Args[0]
	switch action {
	case "get", "erase":
	default:
		// store (our tokens live in our own cache) and any action a later
		// git adds: read the description and ignore it, as git asks.
		_, _ = io.Copy(io.Discard, io.LimitReader(in, protocol.MaxInput))
		return nil
	}
	req, err := protocol.ReadGit(in)
	if err != nil {
		return exitcode.UsageError("%v", err)
	}
	// git's stdin is its pipe: never prompt.
	profile, err := c.Source.GitProfile(req, c.Globals.Profile, c.Getenv(EnvProfile))
	if err != nil || profile == "" {
		return err
	}
	if action == "erase" {
		// git rejected the token: drop the cached access token (unless a
		// concurrent caller already renewed it); the next get refreshes.
		rejected := req.Password
		if req.Credential != "" {
			rejected = req.Credential
		}
		return c.Source.Invalidate(c.Ctx, profile, rejected)
	}
	cred, err := c.Source.Credential(c.Ctx, Request{Profile: profile})
	if err != nil {
		return err
	}
	a := protocol.GitAnswer{Username: cred.Username, Password: cred.AccessToken, PasswordExpiry: cred.ExpiresAt}
	if req.HasCapability("authtype") {
		a.AuthType, a.Credential = "Bearer", cred.AccessToken
	}
	return protocol.WriteGit(c.Stdout, a)
}
