// Command veeam-credential-helper-engine is the whole of
// veeam-credential-helper: every command, grant, backend and protocol. Users
// run veeam-credential-helper, a small front program that answers cache hits
// by itself and execs this engine, installed next to it, for everything else.
// The commands are in cmd/internal/commands, the flow in package helper, the
// wire formats in package protocol.
package main

import (
	"os"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/commands"
	"github.com/veeam-tools/veeam-credential-helper/internal/nodump"
)

func main() {
	// Passwords, the cache passphrase and tokens will be in memory.
	nodump.Disable()
	os.Exit(commands.Main())
}
