//go:build cgo

package keychain

// cgoEnabled tells whether cgo-only keyring backends (macOS keychain) are in this build.
const cgoEnabled = true
