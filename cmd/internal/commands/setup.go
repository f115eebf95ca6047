package commands

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/completion"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/initprofile"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func prepareInit(fs *flag.FlagSet) func(*cli.Call) error {
	var opts initprofile.Options
	fs.StringVar(&opts.Product, "product", "", "the product `P`, one of "+strings.Join(config.ProductNames(), ", "))
	fs.StringVar(&opts.URL, "url", "", "the server's `URL` (https://host[:port])")
	fs.StringVar(&opts.Username, "username", "", "the `USER` to log in as")
	fs.StringVar(&opts.Name, "name", "", "the profile's `NAME` (default: the product)")
	fs.StringVar(&opts.PasswordEnv, "password-env", "", "environment `VAR` holding the password (default: store it with login)")
	fs.StringVar(&opts.CAFile, "ca-file", "", "verify the server with the CA certificates in `PATH` (written as ca_file)")
	fs.BoolVar(&opts.TrustServerKey, "trust-server-key", false, "pin the key of a server whose certificate does not verify, without asking")
	fs.BoolVar(&opts.Force, "force", false, "replace a profile of the same name")
	return func(c *cli.Call) error { return initProfile(c, opts) }
}

func initProfile(c *cli.Call, opts initprofile.Options) error {
	if len(c.Args) > 0 {
		return exitcode.UsageError("init takes flags only (see init --help)")
	}
	opts.ConfigPath = c.ConfigPath()
	var ask initprofile.Asker
	if c.StdinIsTerminal() {
		ask = lineAsker{in: bufio.NewReader(c.Stdin), out: c.Stderr}
	}
	return initprofile.Run(c.Ctx, opts, ask, c.Stderr)
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

func completionCommand(c *cli.Call, profiles bool) error {
	if profiles {
		// Completion must stay quiet: a missing or broken config lists nothing.
		if cfg, err := config.Load(c.ConfigPath()); err == nil {
			for _, n := range cfg.ProfileNames() {
				fmt.Fprintln(c.Stdout, n)
			}
		}
		return nil
	}
	if len(c.Args) != 1 {
		return exitcode.UsageError("usage: veeam-credential-helper completion %s", strings.Join(completion.ShellNames(), "|"))
	}
	if err := completion.Write(c.Stdout, c.Args[0], completionSpec()); err != nil {
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
	cmds := table()
	slices.SortFunc(cmds, func(a, b cli.Command) int { return strings.Compare(a.Name, b.Name) })
	for _, cmd := range cmds {
		fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
		cmd.Prepare(fs)
		spec.Commands = append(spec.Commands, completion.Command{Name: cmd.Name, Flags: flags(fs, global), Args: args[cmd.Name]})
	}
	return spec
}
