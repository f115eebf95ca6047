// Package protocol holds the wire formats of veeam-credential-helper as pure
// functions over io.Reader and io.Writer: the JSON request/answer protocol v1,
// the text output formats (token, header, curl, env), git's credential helper
// protocol and client-go's exec plugin (ExecCredential) protocol.
//
// Nothing here touches the network, the environment, the keyring or the
// clock; callers pass in everything a function needs. Errors about bad input
// are *RequestError values whose messages never repeat the secret values of
// the input (passwords, MFA codes, assertions, tokens), so callers may print
// them on stderr as they are.
//
// ExampleWrite, ExampleWriteGit and ExampleWriteExecCredential show each
// client's answer for one Credential.
package protocol

import "fmt"

// MaxInput is the largest request (JSON v1 or git credential description)
// the readers accept, in bytes.
const MaxInput = 64 << 10

// RequestError reports input that does not follow the protocol. Its message
// is one line and never contains secret values taken from the input.
type RequestError struct {
	// Msg says what is wrong with the input.
	Msg string
}

// Error returns the message prefixed with "invalid request: ".
func (e *RequestError) Error() string { return "invalid request: " + e.Msg }

func reqErrf(format string, args ...any) *RequestError {
	return &RequestError{Msg: fmt.Sprintf(format, args...)}
}

// clip shortens s (a non-secret, input-derived string such as a JSON key or an
// apiVersion) for quoting in an error message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
