package main

import "golang.org/x/sys/unix"

// growPipe asks for a pipe buffer of at least n bytes (F_SETPIPE_SZ: 64 KiB
// by default, up to /proc/sys/fs/pipe-max-size without privileges).
func growPipe(fd, n int) {
	if n > 64<<10 {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, n)
	}
}
