//go:build !linux

package nodump

// disable does nothing outside Linux. macOS has no per-process switch
// short of setrlimit(RLIMIT_CORE, 0), which a caller's `ulimit -c` already
// controls (0 by default); Windows writes no core dumps unless Windows
// Error Reporting is configured to keep full dumps.
func disable() bool { return false }
