package helper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/extcmd"
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
// The client remembers it, to redact it from whatever the server says.
func (s *client) secret(ctx context.Context, kind string) (string, error) {
	v, err := s.findSecret(ctx, kind)
	if v != "" {
		s.sent = append(s.sent, v)
	}
	return v, err
}

func (s *client) findSecret(ctx context.Context, kind string) (string, error) {
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
		b, err := config.ReadTrusted(file, kind+"_file", true)
		if err != nil {
			return "", prefixProfile(p, err)
		}
		if v := strings.TrimRight(string(b), "\r\n"); v != "" {
			return v, nil
		}
	}
	if len(command) > 0 {
		return runSecretCommand(ctx, fmt.Sprintf("profile %q", p.Name), kind, command, s.h.secretVariables(), p.Timeout.Duration)
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
		// "empty" when it is exported but blank (export X=$TYPO): "not set"
		// would send them looking at an export that is there.
		state := "not set"
		if _, ok := os.LookupEnv(unsetEnv); ok {
			state = "empty"
		}
		return "", exitcode.Errorf(exitcode.Interaction, "profile %q: %s_env names $%s, which is %s: export %s=… before running this, or run `veeam-credential-helper login -p %s` to store the %s",
			p.Name, kind, unsetEnv, state, unsetEnv, p.Name, strings.ReplaceAll(kind, "_", " "))
	}
	return "", exitcode.Errorf(exitcode.Interaction, "profile %q needs a %s and no terminal can be asked: give it with %s", p.Name, strings.ReplaceAll(kind, "_", " "), hint)
}

// runSecretCommand runs a user's command (no shell) within ctx and takes
// its stdout. Its stderr is not shown: it might echo the secret. Its
// environment holds none of the configured secret variables (drop). who
// names the configuration it came from in messages; timeout is ctx's.
func runSecretCommand(ctx context.Context, who, kind string, argv, drop []string, timeout time.Duration) (string, error) {
	out, err := extcmd.Output(ctx, argv, drop, nil)
	var ee *extcmd.ExitError
	switch {
	case errors.Is(err, extcmd.ErrTimeout):
		return "", exitcode.Errorf(exitcode.Unreachable, "%s: %s_command (%s) did not finish within timeout %s and was killed", who, kind, argv[0], timeout)
	case errors.As(err, &ee):
		return "", exitcode.Errorf(exitcode.Interaction, "%s: %s_command failed (%s)", who, kind, ee.State)
	case err != nil:
		return "", exitcode.Wrapf(exitcode.Usage, err, "%s: %s_command: %v", who, kind, err)
	}
	v := strings.TrimRight(string(out), "\r\n")
	if v == "" {
		return "", exitcode.Errorf(exitcode.Interaction, "%s: %s_command printed nothing", who, kind)
	}
	return v, nil
}

// secretVariables names the environment variables that hold secrets the
// configuration reads: every profile's *_env and the cache passphrase's. A
// command the helper runs never gets them.
func (h *Helper) secretVariables() []string {
	all := []string{h.Config.Cache.PassphraseEnv, cache.DefaultPassphraseEnv}
	if e := h.Config.Cache.Etcd; e != nil {
		all = append(all, e.PasswordEnv)
	}
	for _, p := range h.Config.Profiles {
		all = append(all, p.PasswordEnv, p.AssertionEnv, p.APIKeyEnv)
	}
	// Each name once: profiles mostly share their variables or set none,
	// and every variable of a command's environment is compared with each.
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) > 0 && all[0] == "" {
		all = all[1:]
	}
	return all
}

// prefixProfile puts the profile's name before a configuration error.
func prefixProfile(p *config.Profile, err error) error {
	e := exitcode.AsError(err)
	return &exitcode.Error{Exit: e.Exit, Msg: fmt.Sprintf("profile %q: %s", p.Name, e.Msg), Err: e.Err}
}
