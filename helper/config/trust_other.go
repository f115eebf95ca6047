//go:build !unix

package config

import "io/fs"

const openNonBlock = 0

// checkTrusted checks nothing on Windows (and other systems without Unix
// modes). A Windows file's access is its ACL; the files the helper reads
// normally sit in the user's profile (%AppData%), whose inherited ACL grants
// the user, SYSTEM and Administrators only. Judging an arbitrary ACL
// (explicit and inherited entries, group memberships, deny entries) needs
// the Win32 security API and is not done: docs/security.md says so.
func checkTrusted(path, what string, fi fs.FileInfo, secret bool) error { return nil }
