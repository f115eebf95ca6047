//go:build cgo

package cache

// cgoEnabled tells whether cgo-only keyring backends (macOS keychain) are in this build.
const cgoEnabled = true
