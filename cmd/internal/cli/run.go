package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// Command is one entry of a program's command table.
type Command struct {
	// Name is what the user types, e.g. "get".
	Name string
	// Summary is the command's line in the usage text.
	Summary string
	// Usage is what follows the name in the command's usage line; "" means "[flags]".
	Usage string
	// Prepare registers the command's flags on fs and returns the command's
	// body, which runs once fs is parsed: flag values are the closure's
	// locals, so every run has its own.
	Prepare func(fs *flag.FlagSet) func(c *Call) error
}

// NoFlags is Prepare for a command without flags of its own.
func NoFlags(run func(c *Call) error) func(*flag.FlagSet) func(*Call) error {
	return func(*flag.FlagSet) func(*Call) error { return run }
}

// BoolFlag is Prepare for a command whose one flag of its own is the
// boolean --name (usage as flag.Bool takes it); run is given its value.
func BoolFlag(name, usage string, run func(c *Call, set bool) error) func(*flag.FlagSet) func(*Call) error {
	return func(fs *flag.FlagSet) func(*Call) error {
		set := fs.Bool(name, false, usage)
		return func(c *Call) error { return run(c, *set) }
	}
}

// Call is one run of a command: what it was given and where it answers.
type Call struct {
	// Ctx is cancelled by SIGINT or SIGTERM (Run) or never (Answer).
	Ctx context.Context
	// Globals are the parsed global flags.
	Globals Globals
	// Args are the arguments after the command's flags.
	Args []string
	// Stdin is the request's input; nil means none.
	Stdin io.Reader
	// Stdout gets the answer, Stderr one-line errors and warnings.
	Stdout, Stderr io.Writer
	// Getenv reads the variables that stand in for flags and
	// KUBERNETES_EXEC_INFO (os.Getenv in the programs).
	Getenv func(string) string
	// Source answers get, exec-credential and git.
	Source Source
}

// ConfigPath is c.Globals.ConfigPath with c's environment.
func (c *Call) ConfigPath() string { return c.Globals.ConfigPath(c.Getenv) }

// Profile is c.Globals.ProfileName with c's environment.
func (c *Call) Profile() string { return c.Globals.ProfileName(c.Getenv) }

// StdinIsTerminal reports whether stdin is a terminal, so a user can be asked.
func (c *Call) StdinIsTerminal() bool { return isTerminal(c.Stdin) }

func isTerminal(r io.Reader) bool {
	f, ok := r.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// Program is one program's command table and the Source its commands use.
type Program struct {
	// Commands is the command table.
	Commands []Command
	// Source returns the credential source for one call; nil for none.
	Source func(c *Call) Source
}

// parsed is a command line ready to run.
type parsed struct {
	cmd  *Command
	g    Globals
	fs   *flag.FlagSet
	run  func(*Call) error
	args []string
}

// errHelp and errNoCommand are the outcomes of parse that are not mistakes.
var (
	errHelp      = errors.New("help asked for")
	errNoCommand = errors.New("no command")
)

// parse reads the global flags, the command's name and its flags. The
// error is errHelp (with p.cmd set for a command's --help), errNoCommand,
// or a usage error for the user.
func (p Program) parse(args []string) (*parsed, error) {
	var r parsed
	gfs := flag.NewFlagSet("veeam-credential-helper", flag.ContinueOnError)
	gfs.SetOutput(io.Discard) // -h/--help: usage on stdout; a mistake: one line on stderr
	gfs.Usage = func() {}
	r.g.Register(gfs)
	version := gfs.Bool("version", false, "print the version and exit")
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &r, errHelp
		}
		return nil, exitcode.UsageError("%v (see --help)", err)
	}
	rest := gfs.Args()
	if *version {
		rest = []string{"version"}
	}
	if len(rest) == 0 {
		return nil, errNoCommand
	}
	name := rest[0]
	i := slices.IndexFunc(p.Commands, func(c Command) bool { return c.Name == name })
	if i < 0 {
		if name == "help" {
			return &r, errHelp
		}
		return nil, exitcode.UsageError("unknown command %q (see --help)", name)
	}
	r.cmd = &p.Commands[i]
	r.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	r.fs.SetOutput(io.Discard)
	r.fs.Usage = func() {}
	r.g.Register(r.fs)
	r.run = r.cmd.Prepare(r.fs)
	if err := r.fs.Parse(rest[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &r, errHelp
		}
		return nil, exitcode.UsageError("%s: %v (see %s --help)", name, err, name)
	}
	r.args = r.fs.Args()
	return &r, nil
}

// Run runs one command line of p (args without the program's name) and
// returns the exit code; it is what the engine's main does, and tests call
// it in process. It is reentrant: nothing it parses outlives the call.
// -h/--help and `help` print usage on stdout; a usage mistake is one line
// on stderr (exit 2); a command's error is one line on stderr with its exit
// code; a panic is exit 1 without a stack.
func Run(p Program, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return Guard(stderr, func() int {
		r, err := p.parse(args)
		switch {
		case errors.Is(err, errHelp) && r.cmd != nil:
			WriteCommandHelp(stdout, r.cmd.Name, r.cmd.Usage, r.cmd.Summary, r.fs)
			return exitcode.OK
		case errors.Is(err, errHelp):
			p.usage(stdout)
			return exitcode.OK
		case errors.Is(err, errNoCommand):
			p.usage(stderr)
			return exitcode.Usage
		case err != nil:
			return Report(stderr, err)
		}
		ctx := &signalContext{Context: context.Background()}
		defer ctx.stop()
		if isTerminal(stdin) {
			// A prompt may come: catch Ctrl-C from the start, so that it
			// never leaves the terminal with echo off.
			ctx.install()
		}
		c := &Call{Ctx: ctx, Globals: r.g, Args: r.args, Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv}
		if p.Source != nil {
			c.Source = p.Source(c)
		}
		if err := r.run(c); err != nil {
			return Report(stderr, err)
		}
		return exitcode.OK
	})
}

// Answer is Run for the front: the answer for stdout and true when a
// command of p ran to success and wrote nothing on stderr; false for
// anything else (help, a mistake, --debug, an error, ErrMiss, a panic),
// which the engine then runs again and reports in its own words.
func Answer(p Program, args []string, stdin io.Reader, getenv func(string) string) ([]byte, bool) {
	var stdout, stderr bytes.Buffer
	ok := false
	Guard(&stderr, func() int {
		r, err := p.parse(args)
		if err != nil || r.g.Debug {
			return exitcode.Usage
		}
		c := &Call{Ctx: context.Background(), Globals: r.g, Args: r.args, Stdin: stdin, Stdout: &stdout, Stderr: &stderr, Getenv: getenv}
		if p.Source != nil {
			c.Source = p.Source(c)
		}
		ok = r.run(c) == nil && stderr.Len() == 0
		return exitcode.OK
	})
	return stdout.Bytes(), ok
}

func (p Program) usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: veeam-credential-helper [--config PATH] [-p NAME] [--debug] COMMAND [flags]")
	fmt.Fprintln(w, "\nAnswers Veeam REST API bearer tokens from an encrypted cache.\n\nGlobal flags:")
	var g Globals
	gfs := flag.NewFlagSet("", flag.ContinueOnError)
	g.Register(gfs)
	gfs.Bool("version", false, "print the version and exit")
	WriteFlags(w, gfs)
	fmt.Fprintln(w, "\nCommands:")
	cmds := slices.Clone(p.Commands)
	slices.SortFunc(cmds, func(a, b Command) int { return strings.Compare(a.Name, b.Name) })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-16s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintln(w, "\nRun veeam-credential-helper COMMAND --help for a command's flags and examples.")
	fmt.Fprintln(w, "\nExit codes: 0 ok, 1 unexpected, 2 usage/config, 3 credentials rejected, 4 server unreachable, 5 interaction needed, 6 cache unavailable")
}
