//go:build windows

package cache

import "os"

// openNonBlock: Windows has no FIFOs in the file system namespace.
const openNonBlock = 0

// dirVariable is the environment variable the default cache directory is under.
const dirVariable = "LocalAppData"

func makeDir(dir string) error { return os.MkdirAll(dir, 0o700) }

// checkDir accepts every directory: Windows ACLs are inherited from the
// user's profile directory and there are no mode bits to check.
func checkDir(string, os.FileInfo) error { return nil }
