package commands

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/demoserve"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// demoCommand is demo, or demo --serve.
func demoCommand(c *cli.Call, serve bool) error {
	if serve {
		return demoServe(c)
	}
	return demo(c)
}

// demoServe prints the export lines on stdout and serves until SIGINT or
// SIGTERM, then removes everything it made.
func demoServe(c *cli.Call) error {
	s, err := demoserve.Start("")
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.WriteExports(c.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "veeam-credential-helper: demo: %d emulated Veeam servers on 127.0.0.1, configuration %s\n", len(s.Emulators), s.ConfigPath)
	fmt.Fprintln(c.Stderr, "veeam-credential-helper: demo: paste the export lines above into another shell, then try: veeam-credential-helper get -p vbr --format token")
	fmt.Fprintln(c.Stderr, "veeam-credential-helper: demo: Ctrl-C stops the servers and removes the directory")
	<-c.Ctx.Done()
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "veeam-credential-helper: demo: stopped; removed %s\n", s.Dir)
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demo starts the embedded emulators on loopback, writes a throwaway
// configuration and walks through the flow with the real engine.
func demo(c *cli.Call) error {
	out := c.Stdout
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	step := func(n int, title string) { say("\n== %d. %s", n, title) }

	m365, err := emulator.New(emulator.Options{Product: "vb365", TLS: true, AccessTTL: time.Hour})
	if err != nil {
		return err
	}
	defer m365.Close()
	azure, err := emulator.New(emulator.Options{Product: "vbazure", TLS: true, AccessTTL: time.Hour})
	if err != nil {
		return err
	}
	defer azure.Close()
	password, mfaCode := randomHex(12), "123456"
	m365.AddUser(`corp\svc-backup`, password)
	azure.AddMFAUser("azure-admin", password, mfaCode)

	dir, err := os.MkdirTemp("", "vch-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	m365CA, azureCA := filepath.Join(dir, "vb365.pem"), filepath.Join(dir, "vbazure.pem")
	if err := os.WriteFile(m365CA, m365.CACertPEM(), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(azureCA, azure.CACertPEM(), 0o600); err != nil {
		return err
	}
	// The demo's secrets live in this process's environment only.
	os.Setenv("VCH_DEMO_PASSWORD", password)
	os.Setenv("VCH_DEMO_PASSPHRASE", randomHex(16))
	cfgText := fmt.Sprintf(`default_profile = "m365"

[cache]
backend = "file"
dir = %q
passphrase_env = "VCH_DEMO_PASSPHRASE"

[profiles.m365]
product = "vb365"
url = %q
username = 'corp\svc-backup'
password_env = "VCH_DEMO_PASSWORD"
ca_file = %q

[profiles.azure]
product = "vbazure"
url = %q
username = "azure-admin"
password_env = "VCH_DEMO_PASSWORD"
mfa_code_command = ["echo", %q]
ca_file = %q
`, filepath.Join(dir, "cache"), m365.URL(), m365CA, azure.URL(), mfaCode, azureCA)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	// Each step uses a new engine, as a new process would: what carries
	// over is only the encrypted cache on disk.
	get := func(r helper.Request) (*helper.Result, error) {
		h := helper.New(cfg)
		h.Stderr = c.Stderr
		h.Debug = c.Globals.Debug
		return h.Get(c.Ctx, r)
	}
	show := func(r *helper.Result, format string) {
		var b strings.Builder
		_ = protocol.Write(&b, format, r.Credential())
		for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			say("   %s", line)
		}
	}
	grants := func(e *emulator.Emulator) string {
		n := e.Counts()
		return fmt.Sprintf("server has seen %d token call(s): %v", n.TokenCalls, n.Grants)
	}

	say("veeam-credential-helper demo: two Veeam token endpoints emulated on loopback,")
	say("VB365 at %s (REST API token path %s) and VB for Azure at %s; configuration %s", m365.URL(), m365.TokenPath(), azure.URL(), cfgPath)
	say("(the cache is the encrypted file backend in %s)", filepath.Join(dir, "cache"))

	step(1, "First `get`: nothing cached, so the helper runs the profile's password grant")
	r, err := get(helper.Request{})
	if err != nil {
		return err
	}
	show(r, protocol.FormatJSON)
	say("   source=%s; %s", r.Source, grants(m365))
	first := r.AccessToken

	step(2, "Second `get`: answered from the encrypted cache, no server call")
	r, err = get(helper.Request{})
	if err != nil {
		return err
	}
	say("   source=%s, same token: %v; %s", r.Source, r.AccessToken == first, grants(m365))

	step(3, "`get --force-refresh`: the helper runs the refresh grant")
	r, err = get(helper.Request{ForceRefresh: true})
	if err != nil {
		return err
	}
	say("   source=%s, new token: %v, accepted by the server: %v; %s", r.Source, r.AccessToken != first, m365.Valid(r.AccessToken), grants(m365))

	step(4, "The same token in each output format (get --format …)")
	for _, f := range []string{protocol.FormatToken, protocol.FormatHeader, protocol.FormatCurl, protocol.FormatEnv} {
		say("  --format %s:", f)
		show(r, f)
	}
	say("  kubectl (exec-credential), git (git get) and the Ansible/PowerShell/go-plugin integrations read the same cache.")

	step(5, "VB for Azure with MFA: the password step answers mfa_enabled, the code comes from mfa_code_command")
	r, err = get(helper.Request{Profile: "azure"})
	if err != nil {
		return err
	}
	say("   source=%s, valid until %s; %s", r.Source, r.ExpiresAt.Format(time.RFC3339), grants(azure))

	step(6, "`logout`: the server session is revoked and the cached tokens deleted")
	h := helper.New(cfg)
	h.Stderr = c.Stderr
	tok := r.AccessToken
	if err := h.Logout(c.Ctx, "azure", false); err != nil {
		return err
	}
	say("   token still accepted by the server: %v; logouts seen: %d", azure.Valid(tok), azure.Counts().Logouts)

	// init, not an editor: it checks the server's certificate and writes the file 0600, where a file an
	// editor creates under umask 002 is 0664 and refused as writable by the group.
	say("\nDone. Set up your own profile with `veeam-credential-helper init` (it writes %s; see README), then: veeam-credential-helper get --format token", config.DefaultConfigPath())
	return nil
}
