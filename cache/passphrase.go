package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"

	"golang.org/x/term"
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
		return runPassphraseCommand(p.command)
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

func runPassphraseCommand(argv []string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr // the command's own diagnostics (gpg, pass...)
	if err := cmd.Run(); err != nil {
		// Never quote its output: it may be (part of) the passphrase.
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", unavailable(nil, "cache.passphrase_command %q failed: %s", argv[0], ee.ProcessState.String())
		}
		return "", unavailable(err, "cache.passphrase_command %q cannot be run", argv[0])
	}
	v := strings.TrimRight(out.String(), "\r\n")
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
