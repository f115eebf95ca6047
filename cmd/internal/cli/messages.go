package cli

import (
	"errors"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// RequestError is `get`'s error for a stdin that is not a JSON request. The
// usual cause is a script's loop whose input `get` read as its own, so the
// message names the flag that leaves stdin alone.
func RequestError(err error) error {
	var re *protocol.RequestError
	if !errors.As(err, &re) {
		return exitcode.UsageError("stdin: %v", err)
	}
	return exitcode.UsageError("stdin: %v (get reads a JSON request from stdin when it is not a terminal: add --no-stdin if stdin is not meant for it)", err)
}
