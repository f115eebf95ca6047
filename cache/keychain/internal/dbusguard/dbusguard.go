// Package dbusguard keeps github.com/99designs/keyring's package init from
// spawning dbus-launch.
//
// On Linux, keyring's secret-service and kwallet files call
// github.com/godbus/dbus.SessionBus() from init(). When
// DBUS_SESSION_BUS_ADDRESS is empty, godbus then probes /run/user/<uid> and
// finally execs `dbus-launch`, which (where installed) starts a new session
// bus daemon that outlives the process: every run of the helper would leak
// one, and pay for it before main even starts.
//
// This package has no dependencies besides the runtime and os, and its import
// path sorts before golang.org/x/... and os/exec, which keyring needs, so
// the Go 1.21+ package initialization order (the spec's "first uninitialized
// package in import-path order whose imports are initialized") runs this
// init before keyring's. When the variable is empty it points it at an
// address with an unsupported transport, which godbus rejects without I/O;
// package cache/keychain restores the original value in its own init, which
// runs after keyring's.
package dbusguard

import (
	"os"
	"runtime"
)

const envName = "DBUS_SESSION_BUS_ADDRESS"

// Blocked is the placeholder address set while keyring initialises.
const Blocked = "veeam-credential-helper-no-dbus:"

var (
	// Original is DBUS_SESSION_BUS_ADDRESS as the process started with it.
	Original string
	// Overridden reports whether init replaced the variable.
	Overridden bool
	// originalSet reports whether the variable existed at all.
	originalSet bool
)

func init() {
	if runtime.GOOS != "linux" {
		Original = os.Getenv(envName)
		return
	}
	Original, originalSet = os.LookupEnv(envName)
	if Original == "" || Original == "autolaunch:" {
		if os.Setenv(envName, Blocked) == nil {
			Overridden = true
		}
	}
}

// SessionAvailable reports whether the process started with a D-Bus session
// address (an explicit one: "autolaunch:" does not count).
func SessionAvailable() bool { return Original != "" && Original != "autolaunch:" }

// Restore puts DBUS_SESSION_BUS_ADDRESS back as it was, unless something
// else has changed it since.
func Restore() {
	if !Overridden {
		return
	}
	Overridden = false
	if os.Getenv(envName) != Blocked {
		return
	}
	if originalSet {
		_ = os.Setenv(envName, Original)
	} else {
		_ = os.Unsetenv(envName)
	}
}
