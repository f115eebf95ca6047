//go:build unix && !linux

package main

// growPipe: other kernels size pipes themselves (macOS up to 64 KiB).
func growPipe(fd, n int) {}
