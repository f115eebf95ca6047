package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Exit codes are part of the command-line contract (README, "Exit codes").
const (
	ExitOK          = 0
	ExitUnexpected  = 1
	ExitUsage       = 2
	ExitRejected    = 3
	ExitUnreachable = 4
	ExitInteraction = 5
	ExitCache       = 6
)

// Error codes used in the JSON protocol's error object, one per exit code.
var errorCodes = map[int]string{
	ExitUnexpected:  "unexpected",
	ExitUsage:       "invalid_configuration",
	ExitRejected:    "invalid_credentials",
	ExitUnreachable: "server_unavailable",
	ExitInteraction: "interaction_required",
	ExitCache:       "cache_unavailable",
}

// Error is an error with an exit code. Its message is one line and never
// holds a secret: it is built from our own words and shortened server text.
type Error struct {
	Exit int
	Msg  string
	Err  error // cause, kept for errors.Is/As; its text is not shown
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Code is the JSON protocol error code for the exit code.
func (e *Error) Code() string {
	if c, ok := errorCodes[e.Exit]; ok {
		return c
	}
	return "unexpected"
}

// Errorf is an *Error with exit code exit and a one-line message.
func Errorf(exit int, format string, args ...any) *Error {
	return &Error{Exit: exit, Msg: OneLine(fmt.Sprintf(format, args...), 400)}
}

// Wrapf is Errorf keeping cause for errors.Is/As (its text is not shown).
func Wrapf(exit int, cause error, format string, args ...any) *Error {
	return &Error{Exit: exit, Msg: OneLine(fmt.Sprintf(format, args...), 400), Err: cause}
}

// UsageError is a configuration or command-line error (exit 2).
func UsageError(format string, args ...any) error { return Errorf(ExitUsage, format, args...) }

// ExitCode maps any error to the documented exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Exit
	}
	return ExitUnexpected
}

// AsError returns err as *Error, wrapping unknown errors as unexpected.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Exit: ExitUnexpected, Msg: OneLine(err.Error(), 400), Err: err}
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
