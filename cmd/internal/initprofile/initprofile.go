// Package initprofile is `init`: it sets up one profile safely. It checks
// the server's certificate before anything is written, trusts an
// unverifiable one only by pinning its key with the user's consent (trust
// on first use, as ssh does; never by turning verification off), merges the
// profile into the configuration file without disturbing the rest of it,
// and never writes a password.
package initprofile

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Options are init's flags.
type Options struct {
	ConfigPath     string
	Product        string
	URL            string
	Username       string
	Name           string // profile name; default: the product's name
	PasswordEnv    string
	CAFile         string // verify the server with this CA and write ca_file
	TrustServerKey bool   // pin an unverifiable server key without asking
	Force          bool   // replace an existing profile of that name
}

// Asker asks the user on a terminal; nil when there is none.
type Asker interface {
	// Ask shows label and returns the line typed (no secret is ever asked).
	Ask(label string) (string, error)
}

// Server is what init learned of the server's certificate.
type Server struct {
	Verified  bool   // the chain verifies with the system's roots or the CA file
	Subject   string // of the leaf certificate
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	Pin       string // base64 SHA-256 of the leaf's SubjectPublicKeyInfo, as pin_sha256 wants it
	VerifyErr string // why it does not verify
}

// Run sets up the profile: it fills in what opts lack by asking (or fails
// with exit 2 naming the flag), checks the server, writes the profile and
// tells the user on w what to run next.
func Run(ctx context.Context, opts Options, ask Asker, w io.Writer) error {
	if opts.ConfigPath == "" {
		return exitcode.UsageError("no configuration path: set --config or VEEAM_CREDENTIAL_HELPER_CONFIG")
	}
	if err := fill(&opts, ask); err != nil {
		return err
	}
	u, err := url.Parse(opts.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return exitcode.UsageError("--url %q is not an https URL like https://server:4443 (init sets up https profiles only)", opts.URL)
	}
	// The profile as it would be written, validated before any connection.
	p, err := profileOf(opts, "")
	if err != nil {
		return err
	}
	existing, err := readConfig(opts.ConfigPath)
	if err != nil {
		return err
	}
	if has, err := hasProfile(existing, opts.Name); err != nil {
		return exitcode.UsageError("%s: %v (fix the file first: init edits only valid files)", opts.ConfigPath, err)
	} else if has && !opts.Force {
		return exitcode.UsageError("profile %q is already in %s: choose another --name, or add --force to replace it", opts.Name, opts.ConfigPath)
	}

	srv, err := Inspect(ctx, p.URL, opts.CAFile)
	if err != nil {
		return err
	}
	pin := ""
	if !srv.Verified {
		fmt.Fprintf(w, "The certificate of %s does not verify (%s):\n", p.URL, srv.VerifyErr)
		fmt.Fprintf(w, "  subject:    %s\n  issuer:     %s\n  valid:      %s to %s\n  pin_sha256: %s\n",
			srv.Subject, srv.Issuer, srv.NotBefore.UTC().Format(time.RFC3339), srv.NotAfter.UTC().Format(time.RFC3339), srv.Pin)
		switch {
		case opts.TrustServerKey:
		case ask != nil:
			answer, err := ask.Ask("Compare the pin with the server's (ask its administrator). Trust this key and write pin_sha256? [y/N] ")
			if err != nil {
				return exitcode.Errorf(exitcode.Interaction, "cannot read the answer from the terminal")
			}
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				return exitcode.UsageError("the server key was not trusted: nothing written")
			}
		default:
			return exitcode.UsageError("the certificate of %s does not verify and there is no terminal to ask: check pin_sha256 %s with the server's administrator, then run init again with --trust-server-key (nothing written)", p.URL, srv.Pin)
		}
		pin = srv.Pin
	}
	text, err := profileText(opts, pin)
	if err != nil {
		return err
	}
	merged, err := merge(existing, opts.Name, text)
	if err != nil {
		return exitcode.UsageError("%s: %v", opts.ConfigPath, err)
	}
	cfg, err := config.Parse(merged)
	if err != nil {
		return exitcode.UsageError("%s: the file with the new profile would not be valid: %v (nothing written)", opts.ConfigPath, err)
	}
	if err := writeFile(opts.ConfigPath, merged); err != nil {
		return err
	}
	fmt.Fprintf(w, "Profile %q written to %s", opts.Name, opts.ConfigPath)
	if pin != "" {
		fmt.Fprint(w, " (the server key is pinned)")
	}
	fmt.Fprintln(w, ".")
	if hint := passphraseHint(cfg.Cache, os.Getenv); hint != "" {
		fmt.Fprintln(w, hint)
	}
	if opts.PasswordEnv != "" {
		fmt.Fprintf(w, "Next: export %s=… (the password), then: veeam-credential-helper get -p %s --format token\n", opts.PasswordEnv, opts.Name)
	} else {
		fmt.Fprintf(w, "Next: veeam-credential-helper login -p %s (it asks for the password and keeps it in the keyring)\n", opts.Name)
	}
	return nil
}

// passphraseHint is what a user must add when the cache will be the
// encrypted file backend with no passphrase at hand (a headless Linux with
// the default backend auto): a terminal is asked, but without it the
// "Next:" line ends in exit 6 wherever none is, as under kubectl or git.
// Empty when nothing is missing.
func passphraseHint(c config.CacheConfig, getenv func(string) string) string {
	switch strings.ToLower(strings.TrimSpace(c.Backend)) {
	case cache.BackendFile:
	case "", cache.BackendAuto:
		if len(cache.KeychainCandidates()) > 0 {
			return ""
		}
	default:
		return ""
	}
	env := c.PassphraseEnv
	if env == "" {
		env = config.DefaultPassphraseEnv
	}
	if len(c.PassphraseCommand) > 0 || getenv(env) != "" {
		return ""
	}
	keyctl := ""
	if runtime.GOOS == "linux" {
		keyctl = `, or cache.backend = "keyctl" (the kernel keyring: no passphrase, nothing on disk, emptied at reboot)`
	}
	return fmt.Sprintf("The token cache here is an encrypted file (no OS keychain answers): its passphrase is asked on a terminal, but kubectl, git and scripts cannot be asked, so "+
		"export %s=… (a passphrase of your choosing, the same every time), or set cache.passphrase_command%s.", env, keyctl)
}

// fill asks for what the flags left out, or names the missing flag.
func fill(o *Options, ask Asker) error {
	need := func(v *string, flag, label string, required bool) error {
		if *v != "" {
			return nil
		}
		if ask == nil {
			if required {
				return exitcode.UsageError("init needs --%s (no terminal to ask)", flag)
			}
			return nil
		}
		s, err := ask.Ask(label)
		if err != nil {
			return exitcode.Errorf(exitcode.Interaction, "cannot read --%s from the terminal", flag)
		}
		*v = strings.TrimSpace(s)
		if *v == "" && required {
			return exitcode.UsageError("init needs --%s", flag)
		}
		return nil
	}
	if err := need(&o.Product, "product", "Product ("+strings.Join(config.ProductNames(), ", ")+"): ", true); err != nil {
		return err
	}
	if err := need(&o.URL, "url", "Server URL (https://host[:port]): ", true); err != nil {
		return err
	}
	if err := need(&o.Username, "username", "Username: ", true); err != nil {
		return err
	}
	if o.Name == "" {
		o.Name = o.Product
	}
	return need(&o.PasswordEnv, "password-env", "Environment variable holding the password (empty: store it with `login`): ", false)
}

// profileText is the [profiles.NAME] table init writes.
func profileText(o Options, pin string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "[profiles.%s]\n", tomlKey(o.Name))
	fmt.Fprintf(&b, "product = %s\n", tomlString(o.Product))
	fmt.Fprintf(&b, "url = %s\n", tomlString(o.URL))
	fmt.Fprintf(&b, "username = %s\n", tomlString(o.Username))
	if o.PasswordEnv != "" {
		fmt.Fprintf(&b, "password_env = %s\n", tomlString(o.PasswordEnv))
	}
	if o.CAFile != "" {
		abs, err := filepath.Abs(o.CAFile)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "ca_file = %s\n", tomlString(abs))
	}
	if pin != "" {
		fmt.Fprintf(&b, "pin_sha256 = %s\n", tomlString(pin))
	}
	return b.String(), nil
}

// profileOf parses the profile init would write, with the configuration's
// own rules (product, URL, username, default port).
func profileOf(o Options, pin string) (*config.Profile, error) {
	text, err := profileText(o, pin)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	return cfg.Profiles[o.Name], nil
}

// Inspect connects to rawURL's host and reports its certificate and whether
// it verifies with the system's roots (or caFile's certificates).
func Inspect(ctx context.Context, rawURL, caFile string) (*Server, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, exitcode.UsageError("url %q: %v", rawURL, err)
	}
	var roots *x509.CertPool
	if caFile != "" {
		pem, err := config.ReadTrusted(caFile, "--ca-file", false)
		if err != nil {
			return nil, err
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, exitcode.UsageError("--ca-file %s holds no PEM certificate", caFile)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, ServerName: u.Hostname()}}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() || ctx.Err() != nil {
			return nil, exitcode.Errorf(exitcode.Unreachable, "no answer from %s within 15s", rawURL)
		}
		return nil, exitcode.Errorf(exitcode.Unreachable, "cannot reach %s: %v", rawURL, err)
	}
	state := conn.(*tls.Conn).ConnectionState()
	conn.Close()
	certs := state.PeerCertificates
	leaf := certs[0]
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	s := &Server{Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter,
		Pin: base64.StdEncoding.EncodeToString(sum[:])}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: u.Hostname(), Roots: roots, Intermediates: inter}); err != nil {
		s.VerifyErr = exitcode.OneLine(err.Error(), 200)
	} else {
		s.Verified = true
	}
	return s, nil
}

// readConfig is the file's text, nil when it does not exist yet. A file
// the engine would refuse (another user could change it) is refused here
// too: merging into it would keep what they wrote.
func readConfig(path string) ([]byte, error) {
	b, err := config.ReadTrusted(path, config.FileConfig, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// hasProfile reports whether the TOML text defines profiles.NAME.
func hasProfile(text []byte, name string) (bool, error) {
	var doc struct {
		Profiles map[string]toml.Primitive `toml:"profiles"`
	}
	if _, err := toml.Decode(string(text), &doc); err != nil {
		return false, errors.New("not valid TOML")
	}
	_, ok := doc.Profiles[name]
	return ok, nil
}

// writeFile replaces path with data, 0600, through a temporary file in the
// same directory so a reader never sees half a file.
func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return exitcode.UsageError("cannot create %s: %v", dir, err)
	}
	f, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return exitcode.UsageError("cannot write in %s: %v", dir, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return exitcode.UsageError("%v", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return exitcode.UsageError("cannot write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return exitcode.UsageError("cannot write %s: %v", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return exitcode.UsageError("cannot replace %s: %v", path, err)
	}
	return nil
}
