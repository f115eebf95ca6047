package config

import (
	"errors"
	"fmt"
	"strings"
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

// OneLine collapses whitespace and shortens s to at most max runes, so a
// server's multi-line text can never spill into logs or stderr.
func OneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
