package helper

import "github.com/veeam-tools/veeam-credential-helper/helper/config"

// Exit codes are part of the command-line contract (README, "Exit codes"); they are
// defined with the configuration, which reports usage errors, so that the
// cache-hit front program shares them without linking the engine.
const (
	ExitOK          = config.ExitOK
	ExitUnexpected  = config.ExitUnexpected
	ExitUsage       = config.ExitUsage
	ExitRejected    = config.ExitRejected
	ExitUnreachable = config.ExitUnreachable
	ExitInteraction = config.ExitInteraction
	ExitCache       = config.ExitCache
)

// Error is an error with an exit code. Its message is one line and never
// holds a secret: it is built from our own words and shortened server text.
type Error = config.Error

var (
	// UsageError is a configuration or command-line error (exit 2).
	UsageError = config.UsageError
	// ExitCode maps any error to the documented exit code.
	ExitCode = config.ExitCode
	// AsError returns err as *Error, wrapping unknown errors as unexpected.
	AsError = config.AsError

	errorf  = config.Errorf
	wrapf   = config.Wrapf
	oneLine = config.OneLine
)
