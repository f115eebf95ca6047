// Package commands is every command of veeam-credential-helper, as the
// engine program (cmd/veeam-credential-helper-engine) runs them: the
// command table, the Source that answers get, exec-credential and git
// with package helper, and the commands only the engine has.
//
// Run is the whole engine in one call, reentrant, for tests in process:
//
//	code := commands.Run([]string{"get", "--format", "token"}, stdin, &stdout, &stderr, getenv)
package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// table is the engine's command table: the commands the front may answer
// from the cache first, then the engine's own.
func table() []cli.Command {
	return append(cli.HitCommands(),
		cli.Command{Name: "exec", Summary: "run a command with the token in its environment (VEEAM_ACCESS_TOKEN, …)", Usage: "[-p NAME] [--min-valid DUR] -- COMMAND [ARGS…]", Prepare: prepareExec},
		cli.Command{Name: "login", Summary: "store the profile's password in the keyring (--password-stdin) and prove it", Prepare: cli.BoolFlag("password-stdin", "read the password (or assertion) from stdin", login)},
		cli.Command{Name: "logout", Summary: "revoke the server session and delete cached tokens (--all, --forget-password)", Prepare: prepareLogout},
		cli.Command{Name: "status", Summary: "show every profile's cache state, never a secret (--json)", Prepare: cli.BoolFlag("json", "JSON output (null for an absent time)", status)},
		cli.Command{Name: "auth-code", Summary: "VB365: print a fresh one-time authorization code", Prepare: cli.NoFlags(authCode)},
		cli.Command{Name: "init", Summary: "set up a profile: checks the server's certificate, pins it only with consent, merges it into the config", Prepare: prepareInit},
		cli.Command{Name: "completion", Summary: "print a completion script: completion bash|zsh|fish|powershell", Usage: "bash|zsh|fish|powershell", Prepare: cli.BoolFlag("profiles", "list the configuration's profile names (the scripts call this)", completionCommand)},
		cli.Command{Name: "demo", Summary: "a tour on the embedded emulator; --serve: emulated servers and a config to try clients with", Prepare: cli.BoolFlag("serve", "serve every product on loopback with a ready configuration until interrupted", demoCommand)},
		cli.Command{Name: "version", Summary: "print version, commit and Go version", Prepare: cli.NoFlags(version)},
		cli.Command{Name: "plugin", Summary: "serve the HashiCorp go-plugin interface to a host program (not run by hand)", Prepare: cli.NoFlags(plugin)},
	)
}

// Run runs one engine command line (args without the program's name) with
// the given streams and returns its exit code. getenv reads the variables
// that stand in for flags (VEEAM_CREDENTIAL_HELPER_CONFIG, VEEAM_PROFILE)
// and KUBERNETES_EXEC_INFO; secret sources such as password_env and the
// cache's passphrase_env read the process environment. stdin may be nil.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return cli.Run(cli.Program{Commands: table(), Source: newSource}, args, stdin, stdout, stderr, getenv)
}

// Main is the engine program: Run on the process's arguments, streams and
// environment, entering plugin mode when a go-plugin host launched it.
func Main() int {
	return Run(pluginArgs(os.Args[1:]), os.Stdin, os.Stdout, os.Stderr, os.Getenv)
}

// newHelper loads the configuration and returns an engine for it; with
// interactive and a terminal on stdin, it may prompt for secrets.
func newHelper(c *cli.Call, interactive bool) (*helper.Helper, error) {
	cfg, err := helper.LoadConfig(c.ConfigPath())
	if err != nil {
		return nil, err
	}
	h := helper.New(cfg)
	h.Stderr = c.Stderr
	h.Debug = c.Globals.Debug
	if interactive && c.StdinIsTerminal() {
		h.Prompt = promptTerminal(c.Stderr)
	}
	return h, nil
}

// source is the engine's cli.Source: it always answers, from the cache or
// the server, with one Helper per call made on first use.
type source struct {
	c *cli.Call
	h *helper.Helper
}

func newSource(c *cli.Call) cli.Source { return &source{c: c} }

func (s *source) helper(interactive bool) (*helper.Helper, error) {
	if s.h == nil {
		h, err := newHelper(s.c, interactive)
		if err != nil {
			return nil, err
		}
		s.h = h
	}
	return s.h, nil
}

func (s *source) Credential(ctx context.Context, r cli.Request) (protocol.Credential, error) {
	h, err := s.helper(r.Interactive)
	if err != nil {
		return protocol.Credential{}, err
	}
	res, err := h.Get(ctx, helper.Request{Profile: r.Profile, MinValid: r.MinValid, ForceRefresh: r.ForceRefresh,
		Password: r.Password, MFACode: r.MFACode, Assertion: r.Assertion})
	if err != nil {
		return protocol.Credential{}, err
	}
	return res.Credential(), nil
}

func (s *source) GitProfile(req protocol.GitRequest, flagProfile, envProfile string) (string, error) {
	h, err := s.helper(false)
	if err != nil {
		return "", err
	}
	p, err := h.Config.GitProfileFor(req.Protocol, req.Host, req.Username, flagProfile, envProfile)
	if err != nil || p == nil {
		return "", err
	}
	return p.Name, nil
}

func (s *source) Invalidate(ctx context.Context, profile, token string) error {
	h, err := s.helper(false)
	if err != nil {
		return err
	}
	return h.InvalidateToken(ctx, profile, token)
}

func promptTerminal(w io.Writer) func(string) (string, error) {
	return func(label string) (string, error) {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			tty = os.Stdin
		} else {
			defer tty.Close()
		}
		fmt.Fprint(w, label)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(w)
		return strings.TrimRight(string(b), "\r\n"), err
	}
}
