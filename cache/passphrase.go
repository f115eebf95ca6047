package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/veeam-tools/veeam-credential-helper/internal/extcmd"
)

// passphraseSource finds the file backend's passphrase once, on first use:
// the environment variable, else the command, else (interactive and stdin a
// terminal) a prompt on the terminal, else an UnavailableError naming the
// options.
type passphraseSource struct {
	env         string
	command     []string
	interactive bool
	dir         string
	timeout     time.Duration // for command
	drop        []string      // variables command does not get

	mu  sync.Mutex
	val string
}

// stdinIsTerminal and promptFunc are variables for tests.
var (
	stdinIsTerminal = func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }
	promptFunc      = promptPassphrase
)

func (p *passphraseSource) get() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.val != "" {
		return p.val, nil
	}
	v, err := p.resolve()
	if err != nil {
		return "", err
	}
	p.val = v
	return v, nil
}

func (p *passphraseSource) resolve() (string, error) {
	if v := os.Getenv(p.env); v != "" {
		return v, nil
	}
	if len(p.command) > 0 {
		return runPassphraseCommand(p.command, p.timeout, append([]string{p.env}, p.drop...))
	}
	if p.interactive && stdinIsTerminal() {
		v, err := promptFunc(fmt.Sprintf("Passphrase for the veeam-credential-helper token cache (%s): ", p.dir))
		if err != nil {
			return "", unavailable(err, "cannot read the token cache passphrase from the terminal")
		}
		if v == "" {
			return "", unavailable(nil, "empty passphrase for the token cache")
		}
		return v, nil
	}
	return "", unavailable(nil, "no passphrase for the encrypted token cache: set %s, or cache.passphrase_command, or use backend keyctl", p.env)
}

// runPassphraseCommand runs passphrase_command within timeout (killed with
// its process group when it passes) and without the variables in drop.
func runPassphraseCommand(argv []string, timeout time.Duration, drop []string) (string, error) {
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Its stderr is shown: the command's own diagnostics (gpg, pass...).
	out, err := extcmd.Output(ctx, argv, drop, os.Stderr)
	var ee *extcmd.ExitError
	switch {
	case errors.Is(err, extcmd.ErrTimeout):
		return "", unavailable(err, "cache.passphrase_command %q was killed after %s", argv[0], timeout)
	case errors.As(err, &ee):
		// Never quote its output: it may be (part of) the passphrase.
		return "", unavailable(nil, "cache.passphrase_command %q failed: %s", argv[0], ee.State)
	case err != nil:
		return "", unavailable(err, "cache.passphrase_command %q cannot be run", argv[0])
	}
	v := strings.TrimRight(string(out), "\r\n")
	if v == "" {
		return "", unavailable(nil, "cache.passphrase_command %q printed nothing", argv[0])
	}
	return v, nil
}

// promptPassphrase reads a passphrase with echo off from the controlling
// terminal (/dev/tty), or from stdin where there is none (Windows).
func promptPassphrase(label string) (string, error) {
	in, out := os.Stdin, os.Stderr
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		defer tty.Close()
		in, out = tty, tty
	}
	fmt.Fprint(out, label)
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(out)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
