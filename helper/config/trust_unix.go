//go:build unix

package config

import (
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

const openNonBlock = syscall.O_NONBLOCK

// checkTrusted applies ReadTrusted's rules to fi, the stat of the open file.
func checkTrusted(path, what string, fi fs.FileInfo, secret bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	mode := fi.Mode()
	uid, me := int(st.Uid), os.Getuid()
	owner := "uid " + strconv.Itoa(uid)
	if uid != me && uid != 0 {
		return untrusted(path, what, "owned by another user", owner, mode, "chown "+strconv.Itoa(me)+" %s")
	}
	if secret && mode.Perm()&0o077 != 0 {
		return untrusted(path, what, "readable by group or others", owner, mode, "chmod 600 %s")
	}
	if mode.Perm()&0o022 != 0 {
		return untrusted(path, what, "writable by group or others", owner, mode, "chmod go-w %s")
	}
	return nil
}
