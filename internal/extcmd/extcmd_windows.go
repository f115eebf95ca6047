//go:build windows

package extcmd

import (
	"os/exec"
	"strings"
)

func sameName(a, b string) bool { return strings.EqualFold(a, b) }

// ownGroup does nothing on Windows: on timeout the command itself is
// killed (exec's default); its children are not. Killing a tree needs a
// job object, which this package does not create.
func ownGroup(*exec.Cmd) {}
