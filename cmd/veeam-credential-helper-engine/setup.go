package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/completion"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/initprofile"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func init() {
	commands["init"] = &command{summary: "set up a profile: checks the server's certificate, pins it only with consent, merges it into the config", flags: initFlags, run: runInit}
	commands["completion"] = &command{summary: "print a completion script: completion bash|zsh|fish|powershell", usage: "bash|zsh|fish|powershell", flags: completionFlags, run: runCompletion}
}

var initOpts initprofile.Options

func initFlags(fs *flag.FlagSet) {
	fs.StringVar(&initOpts.Product, "product", "", "the product `P`, one of "+strings.Join(config.ProductNames(), ", "))
	fs.StringVar(&initOpts.URL, "url", "", "the server's `URL` (https://host[:port])")
	fs.StringVar(&initOpts.Username, "username", "", "the `USER` to log in as")
	fs.StringVar(&initOpts.Name, "name", "", "the profile's `NAME` (default: the product)")
	fs.StringVar(&initOpts.PasswordEnv, "password-env", "", "environment `VAR` holding the password (default: store it with login)")
	fs.StringVar(&initOpts.CAFile, "ca-file", "", "verify the server with the CA certificates in `PATH` (written as ca_file)")
	fs.BoolVar(&initOpts.TrustServerKey, "trust-server-key", false, "pin the key of a server whose certificate does not verify, without asking")
	fs.BoolVar(&initOpts.Force, "force", false, "replace a profile of the same name")
}

func runInit(c *cmdContext) error {
	if len(c.args) > 0 {
		return exitcode.UsageError("init takes flags only (see init --help)")
	}
	opts := initOpts
	opts.ConfigPath = c.configPath()
	var ask initprofile.Asker
	if c.stdinIsTerminal() {
		ask = lineAsker{in: bufio.NewReader(c.io.in), out: c.io.err}
	}
	return initprofile.Run(c.ctx, opts, ask, c.io.err)
}

// lineAsker asks on the terminal, echo on: init never asks for a secret.
type lineAsker struct {
	in  *bufio.Reader
	out io.Writer
}

func (a lineAsker) Ask(label string) (string, error) {
	fmt.Fprint(a.out, label)
	s, err := a.in.ReadString('\n')
	if err != nil && s == "" {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

var completionOpts struct{ profiles bool }

func completionFlags(fs *flag.FlagSet) {
	fs.BoolVar(&completionOpts.profiles, "profiles", false, "list the configuration's profile names (the scripts call this)")
}

func runCompletion(c *cmdContext) error {
	if completionOpts.profiles {
		// Completion must stay quiet: a missing or broken config lists nothing.
		if cfg, err := config.Load(c.configPath()); err == nil {
			for _, n := range cfg.ProfileNames() {
				fmt.Fprintln(c.io.out, n)
			}
		}
		return nil
	}
	if len(c.args) != 1 {
		return exitcode.UsageError("usage: veeam-credential-helper completion %s", strings.Join(completion.ShellNames(), "|"))
	}
	if err := completion.Write(c.io.out, c.args[0], completionSpec()); err != nil {
		return exitcode.UsageError("%v", err)
	}
	return nil
}

// completionSpec describes the command table for the completion scripts.
func completionSpec() completion.Spec {
	values := map[string]string{
		"profile": completion.Profiles, "p": completion.Profiles, "format": completion.Formats,
		"product": completion.Products, "config": completion.Files, "ca-file": completion.Files,
	}
	flags := func(fs *flag.FlagSet, skip map[string]bool) []completion.Flag {
		var out []completion.Flag
		fs.VisitAll(func(f *flag.Flag) {
			if skip[f.Name] || f.Name == "p" {
				return
			}
			b, isBool := f.Value.(interface{ IsBoolFlag() bool })
			cf := completion.Flag{Long: f.Name, Value: !(isBool && b.IsBoolFlag()), Values: values[f.Name]}
			if f.Name == "profile" {
				cf.Short = "p"
			}
			out = append(out, cf)
		})
		return out
	}
	var g cli.Globals
	gfs := flag.NewFlagSet("", flag.ContinueOnError)
	g.Register(gfs)
	global := map[string]bool{}
	gfs.VisitAll(func(f *flag.Flag) { global[f.Name] = true })
	spec := completion.Spec{Program: "veeam-credential-helper", Global: flags(gfs, nil), Formats: protocol.Formats(), Products: config.ProductNames()}
	args := map[string][]string{"git": {"get", "store", "erase"}, "completion": completion.ShellNames()}
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fs := flag.NewFlagSet(n, flag.ContinueOnError)
		if commands[n].flags != nil {
			commands[n].flags(fs)
		}
		spec.Commands = append(spec.Commands, completion.Command{Name: n, Flags: flags(fs, global), Args: args[n]})
	}
	return spec
}

// configPath is --config, else $VEEAM_CREDENTIAL_HELPER_CONFIG, else the default.
func (c *cmdContext) configPath() string {
	if c.g.Config != "" {
		return c.g.Config
	}
	if p := os.Getenv("VEEAM_CREDENTIAL_HELPER_CONFIG"); p != "" {
		return p
	}
	return config.DefaultConfigPath()
}
