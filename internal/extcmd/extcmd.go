// Package extcmd runs the user's external commands (password_command,
// assertion_command, mfa_code_command, api_key_command and the cache's
// passphrase_command): no shell, within the call's deadline, killed with
// everything it started when the deadline passes, and with an environment
// that holds none of the secrets the helper was configured to read.
package extcmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// maxOutput bounds what is read of a command's stdout: a secret is short.
const maxOutput = 64 << 10

// waitDelay is how long Wait waits, after the command exited or was
// killed, for children that keep its stdout open (a daemon it started).
const waitDelay = 500 * time.Millisecond

// ErrTimeout is returned when ctx ended before the command did.
var ErrTimeout = errors.New("did not finish in time")

// ExitError is a command that ran and failed; State says how (exit status
// or signal). It never holds the command's output.
type ExitError struct{ State string }

func (e *ExitError) Error() string { return e.State }

// Output runs argv with stdin closed and returns its stdout. The
// environment is the process's without the variables named in drop. stderr
// gets the command's stderr (nil: discarded). A command still running when
// ctx is done is killed with its process group (see platform files) and
// ErrTimeout is returned; a failed one is an *ExitError; one that could not
// be started is the exec error.
func Output(ctx context.Context, argv []string, drop []string, stderr io.Writer) ([]byte, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("empty command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = environ(drop)
	var out limitedBuffer
	cmd.Stdout = &out
	cmd.Stderr = stderr
	cmd.WaitDelay = waitDelay
	ownGroup(cmd)
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, ErrTimeout
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &ExitError{State: ee.ProcessState.String()}
		}
		if errors.Is(err, exec.ErrWaitDelay) {
			// It exited successfully but something it started keeps stdout
			// open: what it printed is complete.
			return out.Bytes(), nil
		}
		return nil, err
	}
	return out.Bytes(), nil
}

// environ is os.Environ without the variables named in drop (compared
// case-insensitively on Windows, where names are).
func environ(drop []string) []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if d != "" && sameName(name, d) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// limitedBuffer keeps the first maxOutput bytes and drops the rest (the
// command is not blocked on a full pipe).
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
