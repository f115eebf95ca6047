// Command veeam-credential-helper answers Veeam REST API bearer tokens from
// an encrypted cache. This package holds flags and exit codes only; the flow
// is in package helper, the wire formats in package protocol.
package main

import (
	"os"
)

func main() {
	os.Exit(run(pluginArgs(os.Args[1:]), stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}
