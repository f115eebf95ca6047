package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/term"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

type stdio struct {
	in  *os.File
	out io.Writer
	err io.Writer
}

// command is one subcommand: its flags and what it runs.
type command struct {
	summary string
	usage   string                 // what follows the name in the usage line ("" for "[flags]")
	flags   func(fs *flag.FlagSet) // optional: the command's own flags
	run     func(c *cmdContext) error
}

var commands = map[string]*command{}

// cmdContext is what a command runs with.
type cmdContext struct {
	ctx  context.Context
	g    cli.Globals
	args []string
	io   stdio
	fs   *flag.FlagSet
}

// stdinIsTerminal reports whether a user can be asked.
func (c *cmdContext) stdinIsTerminal() bool {
	return c.io.in != nil && term.IsTerminal(int(c.io.in.Fd()))
}

// helper loads the configuration and returns an engine for it.
func (c *cmdContext) helper(interactive bool) (*helper.Helper, error) {
	path := c.g.Config
	if path == "" {
		path = os.Getenv("VEEAM_CREDENTIAL_HELPER_CONFIG")
	}
	if path == "" {
		path = config.DefaultConfigPath()
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	h := helper.New(cfg)
	h.Stderr = c.io.err
	h.Debug = c.g.Debug
	if interactive && c.stdinIsTerminal() {
		h.Prompt = promptTerminal(c.io.err)
	}
	return h, nil
}

// profile is -p, else $VEEAM_PROFILE, else "" (default_profile or the only one).
func (c *cmdContext) profile() string {
	if c.g.Profile != "" {
		return c.g.Profile
	}
	return os.Getenv("VEEAM_PROFILE")
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

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: veeam-credential-helper [--config PATH] [-p NAME] [--debug] COMMAND [flags]")
	fmt.Fprintln(w, "\nAnswers Veeam REST API bearer tokens from an encrypted cache.\n\nGlobal flags:")
	var g cli.Globals
	gfs := flag.NewFlagSet("", flag.ContinueOnError)
	g.Register(gfs)
	gfs.Bool("version", false, "print the version and exit")
	cli.WriteFlags(w, gfs)
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun veeam-credential-helper COMMAND --help for a command's flags and examples.")
	fmt.Fprintln(w, "\nExit codes: 0 ok, 1 unexpected, 2 usage/config, 3 credentials rejected, 4 server unreachable, 5 interaction needed, 6 cache unavailable")
}

// run parses args, runs one command and returns the exit code.
func run(args []string, io stdio) (code int) {
	defer func() {
		// A panic must never print a stack that could hold a secret.
		if r := recover(); r != nil {
			fmt.Fprintln(io.err, "veeam-credential-helper: internal error (please report it with --debug output)")
			code = exitcode.Unexpected
		}
	}()
	var g cli.Globals
	gfs := flag.NewFlagSet("veeam-credential-helper", flag.ContinueOnError)
	gfs.SetOutput(flagOutput)
	g.Register(gfs)
	version := gfs.Bool("version", false, "print the version and exit")
	gfs.Usage = func() {} // -h/--help: usage on stdout; a mistake: one line on stderr
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(io.out)
			return exitcode.OK
		}
		fmt.Fprintf(io.err, "veeam-credential-helper: %v (see --help)\n", err)
		return exitcode.Usage
	}
	rest := gfs.Args()
	if *version {
		rest = []string{"version"}
	}
	if len(rest) == 0 {
		usage(io.err)
		return exitcode.Usage
	}
	name := rest[0]
	cmd := commands[name]
	if cmd == nil {
		if name == "help" {
			usage(io.out)
			return exitcode.OK
		}
		fmt.Fprintf(io.err, "veeam-credential-helper: unknown command %q (see --help)\n", name)
		return exitcode.Usage
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(flagOutput)
	g.Register(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	fs.Usage = func() {}
	if err := fs.Parse(rest[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(io.err, "veeam-credential-helper: %s: %v (see %s --help)\n", name, err, name)
			return exitcode.Usage
		}
		cli.WriteCommandHelp(io.out, name, cmd.usage, cmd.summary, fs)
		return exitcode.OK
	}
	ctx := &signalContext{Context: context.Background()}
	defer ctx.stop()
	if io.in != nil && term.IsTerminal(int(io.in.Fd())) {
		// A prompt may come: catch Ctrl-C from the start, so that it
		// never leaves the terminal with echo off.
		ctx.install()
	}
	c := &cmdContext{ctx: ctx, g: g, args: fs.Args(), io: io, fs: fs}
	if err := cmd.run(c); err != nil {
		return report(io.err, err)
	}
	return exitcode.OK
}

// signalContext is cancelled by SIGINT or SIGTERM, with the handler
// installed only when something first asks for Done (a lock wait, a grant:
// context.WithTimeout does) or up front when stdin is a terminal. os/signal
// starts a goroutine on a locked OS thread, a cost a cache hit, which never
// waits on anything, does not need to pay; without a handler a signal ends
// the process at once, which is right for a hit.
type signalContext struct {
	context.Context // Background until install
	once            sync.Once
	ctx             context.Context
	cancel          context.CancelFunc
}

func (c *signalContext) install() {
	c.once.Do(func() {
		c.ctx, c.cancel = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	})
}

func (c *signalContext) Done() <-chan struct{} {
	c.install()
	if c.ctx == nil { // after stop
		return c.Context.Done()
	}
	return c.ctx.Done()
}

func (c *signalContext) Err() error {
	c.install()
	if c.ctx == nil {
		return c.Context.Err()
	}
	return c.ctx.Err()
}

// stop removes the handler if there is one; afterwards none is installed.
func (c *signalContext) stop() {
	c.once.Do(func() {})
	if c.cancel != nil {
		c.cancel()
	}
}

// report writes an error as one line on stderr and returns its exit code.
func report(w io.Writer, err error) int {
	e := exitcode.AsError(err)
	if e.Msg != "" { // empty: exec's COMMAND failed and said so itself
		fmt.Fprintf(w, "veeam-credential-helper: %s\n", e.Msg)
	}
	return e.Exit
}

// flagOutput silences the flag package's own messages (run writes them;
// inside run, io is its stdio parameter).
var flagOutput = io.Discard

var (
	runtimeGOOS   = runtime.GOOS
	runtimeGOARCH = runtime.GOARCH
)
