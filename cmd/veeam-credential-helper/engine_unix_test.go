//go:build unix

package main

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// Both ways of giving the engine back what the front read of stdin hold it
// all, then EOF, on fd 0: the memory file (Linux) and the pipe.
func TestReplayStdin(t *testing.T) {
	saved, err := unix.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		unix.Dup2(saved, 0)
		unix.Close(saved)
	}()
	for name, replay := range map[string]func([]byte) error{"replayStdin": replayStdin, "replayPipe": replayPipe} {
		for _, size := range []int{0, 11, 64 << 10, 64<<10 + 1} {
			data := bytes.Repeat([]byte("r"), size)
			if err := replay(data); err != nil {
				t.Fatalf("%s(%d bytes): %v", name, size, err)
			}
			var got []byte
			buf := make([]byte, 8192)
			for {
				n, err := unix.Read(0, buf)
				if err != nil {
					t.Fatalf("%s(%d bytes): read: %v", name, size, err)
				}
				if n == 0 {
					break
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s(%d bytes): read back %d bytes", name, size, len(got))
			}
		}
	}
}
