//go:build unix

package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// execEngine replaces this process with the engine: same PID, arguments,
// environment and stdio, so callers (kubectl, git, go-plugin hosts, signal
// senders) cannot tell. What the front read of stdin is put back first
// (replayStdin).
func execEngine(path string, argv []string, stdin []byte) error {
	if stdin != nil {
		if err := replayStdin(stdin); err != nil {
			return fmt.Errorf("cannot hand stdin to %s: %v", engineBinary, err)
		}
	}
	return fmt.Errorf("cannot run %s: %w", path, unix.Exec(path, argv, os.Environ()))
}

// replayStdin makes fd 0 hold data, then EOF: a memory file on Linux, else
// a pipe. data is at most protocol.MaxInput+1 bytes: more than a default
// Linux or macOS pipe holds, so the pipe is grown where the kernel allows;
// its write end is non-blocking so that a pipe too small fails here instead
// of hanging.
func replayStdin(data []byte) error {
	if fd, ok := memStdin(data); ok {
		err := unix.Dup2(fd, 0)
		unix.Close(fd)
		return err
	}
	return replayPipe(data)
}

func replayPipe(data []byte) error {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return err
	}
	r, w := p[0], p[1]
	defer unix.Close(w)
	growPipe(w, len(data))
	if err := unix.SetNonblock(w, true); err != nil {
		unix.Close(r)
		return err
	}
	for len(data) > 0 {
		n, err := unix.Write(w, data)
		if err != nil {
			unix.Close(r)
			return err
		}
		data = data[n:]
	}
	if err := unix.Dup2(r, 0); err != nil {
		unix.Close(r)
		return err
	}
	return unix.Close(r)
}
