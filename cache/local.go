package cache

import "strings"

// LocalBackend resolves cache.local, the per-machine level in front of the
// fleet backend: "" is keyctl where the kernel keyring is permitted, else
// file; anything else is returned lower-cased. The engine resolves it
// once and writes the result into the front's index, so both read the
// same local level.
func LocalBackend(local string) string {
	l := strings.ToLower(strings.TrimSpace(local))
	if l != "" {
		return l
	}
	if keyctlUsable() == nil {
		return BackendKeyctl
	}
	return BackendFile
}
