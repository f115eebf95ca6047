// Package execcmd runs a user's command with a credential in its
// environment: `veeam-credential-helper exec -- COMMAND ARGS…`, as aws-vault
// exec and `op run` do. The credential is had before COMMAND starts; if it
// cannot be had, COMMAND never runs.
package execcmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Names of the variables COMMAND gets besides protocol.EnvAccessToken and
// protocol.EnvTokenExpiresAt.
const (
	EnvAPIURL  = "VEEAM_API_URL"
	EnvProfile = "VEEAM_PROFILE"
)

// Environ is base with the credential's variables set (replacing any of
// the same name): the token, its expiry (RFC 3339, empty for a key without
// one), the profile's URL and name. VEEAM_PROFILE makes a helper that
// COMMAND runs in turn use the same profile.
func Environ(base []string, c protocol.Credential) []string {
	set := map[string]string{
		protocol.EnvAccessToken:    c.AccessToken,
		protocol.EnvTokenExpiresAt: protocol.FormatTime(c.ExpiresAt),
		EnvAPIURL:                  c.URL,
		EnvProfile:                 c.Profile,
	}
	env := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, ours := set[name]; !ours {
			env = append(env, kv)
		}
	}
	for _, name := range []string{protocol.EnvAccessToken, protocol.EnvTokenExpiresAt, EnvAPIURL, EnvProfile} {
		env = append(env, name+"="+set[name])
	}
	return env
}

// Lookup finds COMMAND as a shell would (on PATH unless it holds a slash),
// before any credential is asked for. The error is one line; its exit code
// is ExitNotFound or ExitNotExecutable, as env(1) and shells use.
func Lookup(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		return "", &exitcode.Error{Exit: ExitNotExecutable, Msg: fmt.Sprintf("exec: %q is not executable", name), Err: err}
	}
	return "", &exitcode.Error{Exit: ExitNotFound, Msg: fmt.Sprintf("exec: command %q not found (on PATH or as a path)", name), Err: err}
}

// Exit codes of a COMMAND that cannot be run, as env(1) and shells use them.
const (
	ExitNotExecutable = 126
	ExitNotFound      = 127
)

// Run runs the program at path with argv and env and this process's
// stdio. On Unix it replaces this process: COMMAND keeps this PID, gets its
// signals directly, and its exit status (or the signal that ended it, which
// a shell reports as 128+n) is what the caller sees; Run returns only when
// COMMAND cannot be started. Elsewhere it waits for COMMAND and returns its
// exit code.
func Run(path string, argv []string, env []string) (int, error) {
	code, err := run(path, argv, env, os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		return 0, &exitcode.Error{Exit: ExitNotExecutable, Msg: fmt.Sprintf("exec: cannot run %q: %v", argv[0], err), Err: err}
	}
	return code, nil
}
