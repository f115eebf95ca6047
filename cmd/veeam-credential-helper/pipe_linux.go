package main

import "golang.org/x/sys/unix"

// memStdin returns a memory file (memfd: nothing on disk) holding data,
// read from its start: unlike a pipe, it holds any size whatever the
// user's pipe buffer quota (fs.pipe-user-pages-soft) has left.
func memStdin(data []byte) (int, bool) {
	fd, err := unix.MemfdCreate("veeam-credential-helper-stdin", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, false
	}
	for rest := data; len(rest) > 0; {
		n, err := unix.Write(fd, rest)
		if err != nil {
			unix.Close(fd)
			return -1, false
		}
		rest = rest[n:]
	}
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

// growPipe asks for a pipe buffer of at least n bytes (F_SETPIPE_SZ: 64 KiB
// by default, up to /proc/sys/fs/pipe-max-size without privileges).
func growPipe(fd, n int) {
	if n > 64<<10 {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, n)
	}
}
