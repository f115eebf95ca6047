//go:build linux || darwin

package hit

import (
	"encoding/binary"
	"os"
	"syscall"
	"time"
)

// stampOf is what identifies a configuration file's version: its path,
// size, modification and change times in nanoseconds, inode, device, owner
// and mode. A write changes the times, a rename the inode, a chmod or chown
// the change time; nobody but the kernel sets the change time.
func stampOf(abs string, fi os.FileInfo) ([]byte, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return nil, false
	}
	b := append([]byte(abs), 0)
	for _, v := range []uint64{uint64(fi.Size()), uint64(fi.ModTime().UnixNano()), uint64(changeTime(st).UnixNano()),
		uint64(st.Ino), uint64(st.Dev), uint64(st.Uid), uint64(st.Mode)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b, true
}

// settled reports whether the file's last change is far enough in the past
// that any later change gets other times. File times come from a clock
// that ticks every few milliseconds (each second on some file systems):
// two writes within one tick, the second of the same size, keep the same
// stamp, and an index saved between them would describe the first.
func settled(fi os.FileInfo, now time.Time) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	last := changeTime(st)
	if m := fi.ModTime(); m.After(last) {
		last = m
	}
	margin := settleMargin
	if last.Nanosecond() == 0 { // probably a file system with whole seconds
		margin = 2 * time.Second
	}
	return now.Sub(last) > margin
}

// ownDir reports whether dir is a directory of the current user that
// nobody else may write to.
func ownDir(dir string) bool {
	fi, err := os.Lstat(dir)
	return err == nil && fi.IsDir() && owned(fi)
}

func owned(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid() && fi.Mode().Perm()&0o022 == 0
}

// openOwnFile opens a regular file of the current user that nobody else
// may write to, not through a symbolic link.
func openOwnFile(name string) (*os.File, error) {
	// Non-blocking: a FIFO planted at the path must be refused, not waited on.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !owned(fi) {
		f.Close()
		return nil, os.ErrPermission
	}
	return f, nil
}
