//go:build unix && !linux

package main

// memStdin: no memfd here; replayStdin uses a pipe.
func memStdin(data []byte) (int, bool) { return -1, false }

// growPipe: other kernels size pipes themselves (macOS up to 64 KiB).
func growPipe(fd, n int) {}
