// Package demoserve is `demo --serve`: an emulated server for every Veeam
// product on loopback and a ready configuration for them, so that kubectl,
// git, curl and Ansible can be tried in a second terminal without a Veeam
// server. Everything lives in one directory that Close removes.
package demoserve

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

// Profiles are the profile names of the configuration, one per product
// and named after it; the first is default_profile.
var Profiles = []string{"vb365", "vbazure", "vbr", "vbaws", "vbgcp", "vone", "vspc"}

// users are the accounts the emulators know, in each product's own style.
var users = map[string]string{
	"vb365":   `corp\svc-backup`,
	"vbazure": "azure-admin",
	"vbr":     `CORP\backup-operator`,
	"vbaws":   "aws-admin",
	"vbgcp":   "gcp-admin",
	"vone":    `ONESRV\administrator`,
	"vspc":    `vspc\portal-admin`,
}

// Names of the variables the demo exports besides the helper's own
// (VEEAM_CREDENTIAL_HELPER_CONFIG, VEEAM_CREDENTIAL_HELPER_PASSPHRASE).
const (
	EnvPassword = "VEEAM_DEMO_PASSWORD" // every profile's password_env
	EnvCAFile   = "VEEAM_DEMO_CA_FILE"  // the emulators' CA certificate (curl --cacert)
)

// URLEnv is the variable holding profile's server URL, e.g. VEEAM_DEMO_VB365_URL.
func URLEnv(profile string) string { return "VEEAM_DEMO_" + strings.ToUpper(profile) + "_URL" }

// Server is a running demo.
type Server struct {
	Dir        string // created by Start, removed by Close
	ConfigPath string
	Emulators  map[string]*emulator.Emulator
	exports    [][2]string
}

// Start makes a directory under parent ("" for the system's temporary
// directory), starts the emulators on 127.0.0.1 and writes the CA file and
// the configuration (file cache backend inside the directory).
func Start(parent string) (s *Server, err error) {
	dir, err := os.MkdirTemp(parent, "veeam-credential-helper-demo-")
	if err != nil {
		return nil, err
	}
	s = &Server{Dir: dir, ConfigPath: filepath.Join(dir, "config.toml"), Emulators: map[string]*emulator.Emulator{}}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	password, passphrase := randomHex(12), randomHex(16)
	caFile := filepath.Join(dir, "ca.pem")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# Written by `veeam-credential-helper demo --serve`; removed when it stops.\ndefault_profile = %q\n\n[cache]\nbackend = \"file\"\ndir = %q\n",
		Profiles[0], filepath.Join(dir, "cache"))
	urls := make([][2]string, 0, len(Profiles))
	for _, name := range Profiles {
		em, err := emulator.New(emulator.Options{Product: name, TLS: true})
		if err != nil {
			return s, err
		}
		s.Emulators[name] = em
		em.AddUser(users[name], password)
		fmt.Fprintf(&cfg, "\n[profiles.%s]\nproduct = %q\nurl = %q\nusername = '%s'\npassword_env = %q\nca_file = %q\n",
			name, name, em.URL(), users[name], EnvPassword, caFile)
		urls = append(urls, [2]string{URLEnv(name), em.URL()})
		if name == Profiles[0] {
			// Every emulator presents the same test certificate.
			if err := os.WriteFile(caFile, em.CACertPEM(), 0o600); err != nil {
				return s, err
			}
		}
	}
	if err := os.WriteFile(s.ConfigPath, []byte(cfg.String()), 0o600); err != nil {
		return s, err
	}
	s.exports = append([][2]string{
		{"VEEAM_CREDENTIAL_HELPER_CONFIG", s.ConfigPath},
		{"VEEAM_CREDENTIAL_HELPER_PASSPHRASE", passphrase},
		{EnvPassword, password},
		{EnvCAFile, caFile},
	}, urls...)
	return s, nil
}

// WriteExports writes one `export NAME='value'` line per variable a second
// shell needs, then a blank line (the end, for a program reading them).
func (s *Server) WriteExports(w io.Writer) error {
	var b strings.Builder
	for _, kv := range s.exports {
		fmt.Fprintf(&b, "export %s='%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", `'\''`))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Close stops the emulators and removes the directory and the front's
// index of the configuration.
func (s *Server) Close() error {
	for _, em := range s.Emulators {
		em.Close()
	}
	if err := hit.Forget(s.ConfigPath); err != nil {
		return err
	}
	return os.RemoveAll(s.Dir)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
