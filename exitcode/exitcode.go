// Package exitcode is the error type of veeam-credential-helper: an error
// with one of the documented exit codes and a one-line message that never
// holds a secret. The front, the engine (package helper), the plugin server
// and the configuration (package config) all report failures with it, and
// it links nothing beyond the standard library, so the front stays light.
//
// A library caller tells failures apart by exit code:
//
//	if exitcode.Of(err) == exitcode.Rejected { … ask for a new password … }
package exitcode

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The exit codes of every command.
const (
	OK          = 0 // success
	Unexpected  = 1 // a bug or an error with no better code
	Usage       = 2 // bad command line, configuration or request
	Rejected    = 3 // the server rejected the credentials
	Unreachable = 4 // server unreachable, timeout, 5xx or 429 after retries
	Interaction = 5 // a secret is needed and nobody can be asked
	Cache       = 6 // the token cache cannot be used
)

// codes are the JSON protocol's error codes, one per exit code.
var codes = map[int]string{
	Unexpected:  "unexpected",
	Usage:       "invalid_configuration",
	Rejected:    "invalid_credentials",
	Unreachable: "server_unavailable",
	Interaction: "interaction_required",
	Cache:       "cache_unavailable",
}

// maxMessage is the longest message in runes; server text is cut to it.
const maxMessage = 400

// Error is an error with an exit code. Its message is one line and never
// holds a secret: it is built from our own words and shortened server text.
type Error struct {
	// Exit is the process exit code (one of the constants above).
	Exit int
	// Msg is the one-line message shown to the user.
	Msg string
	// Err is the cause, kept for errors.Is and errors.As; its text is not shown.
	Err error
}

// Error returns the one-line message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Code is the JSON protocol's error code for the exit code, e.g. "invalid_credentials".
func (e *Error) Code() string {
	if c, ok := codes[e.Exit]; ok {
		return c
	}
	return "unexpected"
}

// Errorf returns an *Error with exit code exit and a one-line message.
func Errorf(exit int, format string, args ...any) *Error {
	return &Error{Exit: exit, Msg: OneLine(fmt.Sprintf(format, args...), maxMessage)}
}

// Wrapf is Errorf keeping cause for errors.Is and errors.As (its text is not shown).
func Wrapf(exit int, cause error, format string, args ...any) *Error {
	return &Error{Exit: exit, Msg: OneLine(fmt.Sprintf(format, args...), maxMessage), Err: cause}
}

// UsageError returns a command-line, configuration or request error (exit 2).
func UsageError(format string, args ...any) error { return Errorf(Usage, format, args...) }

// Of returns the exit code for err: OK for nil, the code of an *Error in its
// chain, else Unexpected.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Exit
	}
	return Unexpected
}

// AsError returns the *Error in err's chain, or err wrapped as Unexpected.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Exit: Unexpected, Msg: OneLine(err.Error(), maxMessage), Err: err}
}

// OneLine collapses whitespace, escapes control characters and shortens s
// to at most max runes, so a server's text can never spill into logs or
// stderr over several lines, nor drive a terminal: ESC, BEL, OSC and C1
// bytes would set window titles, clear the screen, fake text or (in some
// terminals) write the clipboard. Every message the helper prints goes
// through here.
func OneLine(s string, max int) string {
	s = escapeControls(strings.Join(strings.Fields(s), " "))
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// escapeControls writes C0 controls, DEL, C1 controls and the Unicode
// bidirectional overrides (which reorder what the terminal shows) as Go
// escapes (\x1b, \u009b, \u202e); invalid UTF-8 becomes U+FFFD.
func escapeControls(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 && isControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case isControl(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
