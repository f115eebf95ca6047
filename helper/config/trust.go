package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// Kinds of file the configuration names, for ReadTrusted.
const (
	// FileConfig is the configuration file itself.
	FileConfig = "configuration file"
	// FileCA is a profile's ca_file.
	FileCA = "ca_file"
)

// maxTrustedFile bounds what ReadTrusted reads: configuration, CA bundles
// and secrets are small, and a huge file (or /dev/zero) must not eat memory.
const maxTrustedFile = 16 << 20

// ReadTrusted reads a file the helper acts on, refusing it (exit 2, one
// line naming the file, its owner and mode and the command that fixes it)
// when another user could have changed it or, for a secret, can read it, as
// ssh does for its configuration and keys:
//
//   - what (FileConfig, FileCA, or the name of a secret key such as
//     "password_file") says what it is, for the message;
//   - every file must be owned by the caller or root and not writable by
//     group or others: a writable configuration would let another user
//     run a password_command as the caller or point url at their server;
//     a writable ca_file would let them add a CA;
//   - a secret (secret true) must not be readable by group or others.
//
// The check is one fstat of the opened file, so a file swapped between a
// check and the read is never the one read. Windows: see checkTrusted.
func ReadTrusted(path, what string, secret bool) ([]byte, error) {
	// Not blocking: a FIFO at the path must be refused, not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, exitcode.Wrapf(exitcode.Usage, err, "cannot read %s %s: it does not exist", what, path)
		}
		return nil, exitcode.UsageError("cannot read %s: %v", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, exitcode.UsageError("cannot read %s: %v", what, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, exitcode.UsageError("%s %s is not a regular file", what, path)
	}
	if err := checkTrusted(path, what, fi, secret); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTrustedFile+1))
	if err != nil {
		return nil, exitcode.UsageError("cannot read %s: %v", what, err)
	}
	if len(b) > maxTrustedFile {
		return nil, exitcode.UsageError("%s %s is larger than %d MiB", what, path, maxTrustedFile>>20)
	}
	return b, nil
}

// untrusted is the refusal of a file whose owner or mode is unsafe.
func untrusted(path, what, problem, owner string, mode fs.FileMode, fix string) error {
	return exitcode.Errorf(exitcode.Usage, "%s %s is %s (owner %s, mode %04o): refused; run `%s`",
		what, path, problem, owner, uint32(mode.Perm()), fmt.Sprintf(fix, path))
}
