// Command veeam-credential-helper answers Veeam REST API bearer tokens from
// an encrypted cache.
//
// This program is the front: it runs `get`, `exec-credential` and `git`
// with the same code as the engine (package cli) but a Source that answers
// cache hits only (package hit), and hands everything else — another
// command, a miss, an error, a warning to give — to
// veeam-credential-helper-engine, installed next to it, with the same
// arguments, environment and stdin (same PID on Unix). It links no HTTP,
// TLS or OS-keychain code: a cache hit, the call made thousands of times a
// day, costs little more than starting a process.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/internal/nodump"
)

func main() {
	// A cache hit decrypts the entry, refresh token included. One system
	// call: about 60 instructions of a hit's million (docs/security.md).
	nodump.Disable()
	stdin := &recordingReader{f: os.Stdin}
	front := cli.Program{Commands: cli.HitCommands(), Source: newHitSource}
	if answer, ok := cli.Answer(front, os.Args[1:], stdin, os.Getenv); ok {
		if _, err := os.Stdout.Write(answer); err != nil {
			fmt.Fprintf(os.Stderr, "veeam-credential-helper: %s\n", exitcode.OneLine(err.Error(), 400))
			os.Exit(exitcode.Unexpected)
		}
		os.Exit(exitcode.OK)
	}
	os.Exit(runEngine(os.Args, stdin.replay()))
}

// recordingReader is the front's stdin: it keeps every byte read through
// it, for the engine to read again on a miss.
type recordingReader struct {
	f      *os.File
	read   []byte
	reads  bool // Read was called
	failed bool // a read failed with an error other than io.EOF
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.reads = true
	r.read = append(r.read, p[:n]...)
	if err != nil && err != io.EOF {
		r.failed = true
	}
	return n, err
}

// Fd is stdin's descriptor, for the terminal check.
func (r *recordingReader) Fd() uintptr { return r.f.Fd() }

// replay is what the engine must read before the rest of stdin: nil when
// the front read nothing (the engine reads fd 0 as it is), else what was
// read, even if empty (stdin was at its end). After a read error the
// engine reports, only what was read, if anything.
func (r *recordingReader) replay() []byte {
	if !r.reads || r.failed && len(r.read) == 0 {
		return nil
	}
	if r.read == nil {
		return []byte{}
	}
	return r.read
}
