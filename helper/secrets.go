package helper

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Kinds of secret a grant may need.
const (
	secretPassword  = "password"
	secretAssertion = "assertion"
	secretMFACode   = "mfa_code"
	secretAPIKey    = "api_key"
)

// secretKind is the secret a profile's primary grant needs: the one `login` stores.
func secretKind(p *config.Profile) string {
	if p.Grant == config.GrantAPIKey {
		return secretAPIKey
	}
	if p.ClientID != "" && (p.Grant == config.GrantJWTBearer || p.Grant == config.GrantOperator) {
		return secretAssertion
	}
	return secretPassword
}

// secretKey is the keyring item of the secret stored by `login`.
func secretKey(p *config.Profile) string { return p.CacheKey() + "." + secretKind(p) }

// secret finds a secret in the documented order: the JSON request, *_env,
// *_file, *_command, the keyring entry stored by `login`, a terminal prompt.
func (s *client) secret(ctx context.Context, kind string) (string, error) {
	p := s.p
	var fromRequest, env, file string
	var command []string
	var hint string
	switch kind {
	case secretPassword:
		fromRequest, env, file, command = s.req.Password, p.PasswordEnv, p.PasswordFile, p.PasswordCommand
		hint = `"password" in the JSON request, password_env, password_file, password_command, or run ` + "`veeam-credential-helper login -p " + p.Name + "`"
	case secretAssertion:
		fromRequest, env, file, command = s.req.Assertion, p.AssertionEnv, p.AssertionFile, p.AssertionCommand
		hint = `"assertion" in the JSON request, assertion_env, assertion_file, assertion_command, or run ` + "`veeam-credential-helper login -p " + p.Name + "`"
	case secretAPIKey:
		// `login` and the JSON request hand the key over as the password.
		fromRequest, env, file, command = s.req.Password, p.APIKeyEnv, p.APIKeyFile, p.APIKeyCommand
		hint = `api_key_env, api_key_file, api_key_command, "password" in the JSON request, or run ` + "`veeam-credential-helper login -p " + p.Name + "`"
	case secretMFACode:
		fromRequest, command = s.req.MFACode, p.MFACodeCommand
		hint = `"mfa_code" in the JSON request, mfa_code_command, or run it on a terminal`
	}
	if fromRequest != "" {
		return fromRequest, nil
	}
	unsetEnv := ""
	if env != "" {
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
		unsetEnv = env
		s.h.debugf("profile %q: %s_env: $%s is not set", p.Name, kind, env)
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", exitcode.Errorf(exitcode.Usage, "profile %q: cannot read %s_file: %v", p.Name, kind, err)
		}
		if v := strings.TrimRight(string(b), "\r\n"); v != "" {
			return v, nil
		}
	}
	if len(command) > 0 {
		return runSecretCommand(ctx, p.Name, kind, command)
	}
	if kind != secretMFACode && kind == secretKind(p) {
		if st, _, err := s.h.OpenCache(); err == nil {
			if b, err := st.Get(secretKey(p)); err == nil && len(b) > 0 {
				s.h.debugf("profile %q: %s from the keyring (stored by login)", p.Name, kind)
				return string(b), nil
			}
		}
	}
	if s.h.Prompt != nil && kind != secretAssertion {
		label := "Password for " + p.Username + " at " + p.URL + ": "
		switch kind {
		case secretMFACode:
			label = "MFA code for " + p.Username + " at " + p.URL + ": "
		case secretAPIKey:
			label = "API key for " + p.URL + ": "
		}
		v, err := s.h.Prompt(label)
		if err != nil {
			return "", exitcode.Wrapf(exitcode.Interaction, err, "profile %q: cannot read the %s from the terminal", p.Name, kind)
		}
		if v != "" {
			return v, nil
		}
	}
	if unsetEnv != "" {
		// The user chose this source: name it rather than list every other.
		return "", exitcode.Errorf(exitcode.Interaction, "profile %q: %s_env names $%s, which is not set: export %s=… before running this, or run `veeam-credential-helper login -p %s` to store the %s",
			p.Name, kind, unsetEnv, unsetEnv, p.Name, strings.ReplaceAll(kind, "_", " "))
	}
	return "", exitcode.Errorf(exitcode.Interaction, "profile %q needs a %s and no terminal can be asked: give it with %s", p.Name, strings.ReplaceAll(kind, "_", " "), hint)
}

// runSecretCommand runs a user's command (no shell) and takes its stdout.
// Its stderr is not shown: it might echo the secret.
func runSecretCommand(ctx context.Context, profile, kind string, argv []string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", exitcode.Errorf(exitcode.Unreachable, "profile %q: %s_command did not finish within timeout", profile, kind)
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", exitcode.Errorf(exitcode.Interaction, "profile %q: %s_command failed (%s)", profile, kind, ee.ProcessState.String())
		}
		return "", exitcode.Errorf(exitcode.Usage, "profile %q: %s_command: %v", profile, kind, err)
	}
	v := strings.TrimRight(out.String(), "\r\n")
	if v == "" {
		return "", exitcode.Errorf(exitcode.Interaction, "profile %q: %s_command printed nothing", profile, kind)
	}
	return v, nil
}
