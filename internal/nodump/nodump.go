// Package nodump keeps secrets out of core dumps: on Linux the process is
// made non-dumpable (prctl PR_SET_DUMPABLE 0), which also stops other
// processes of the same user from attaching with ptrace or reading its
// memory through /proc. The helper holds passwords, the cache passphrase
// and tokens in memory; a crash must not write them to a core file.
package nodump

// Disable makes the process non-dumpable where the system allows it and
// reports whether it did. It costs one system call.
func Disable() bool { return disable() }
