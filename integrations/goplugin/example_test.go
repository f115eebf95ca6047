package goplugin_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// A host program launches the installed veeam-credential-helper once as a
// go-plugin and asks it for tokens over gRPC; the plugin keeps the cache
// and the secrets.
func ExampleNewClient() {
	helperPath, env, cleanup := exampleInstallation()
	defer cleanup()

	c, err := goplugin.NewClient(helperPath, goplugin.ClientOptions{Env: env})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	cred, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365", MinValid: 5 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cred.Profile, cred.Product, cred.Username, cred.TokenType, cred.Source)
	again, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Source, again.AccessToken == cred.AccessToken)
	// Output:
	// m365 vb365 corp\svc-backup Bearer grant
	// cache true
}

// exampleInstallation stands for what a host finds installed: the
// veeam-credential-helper binaries (built from this module) and, in the
// environment it passes, a configuration with one vb365 profile on a
// server emulated on loopback and that profile's password.
func exampleInstallation() (helperPath string, env []string, cleanup func()) {
	bin, err := testenv.Build()
	if err != nil {
		log.Fatal(err)
	}
	server, err := emulator.New(emulator.Options{Product: "vb365", TLS: true})
	if err != nil {
		log.Fatal(err)
	}
	server.AddUser(`corp\svc-backup`, "example-password")
	dir, err := os.MkdirTemp("", "goplugin-example-")
	if err != nil {
		log.Fatal(err)
	}
	caFile, cfgFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "config.toml")
	cfg := fmt.Sprintf(`[cache]
backend = "file"
dir = %q
passphrase_env = "EXAMPLE_CACHE_PASSPHRASE"

[profiles.m365]
product = "vb365"
url = %q
username = 'corp\svc-backup'
password_env = "EXAMPLE_M365_PASSWORD"
ca_file = %q
`, filepath.Join(dir, "cache"), server.URL(), caFile)
	if err := os.WriteFile(caFile, server.CACertPEM(), 0o600); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		log.Fatal(err)
	}
	env = []string{
		"VEEAM_CREDENTIAL_HELPER_CONFIG=" + cfgFile,
		"EXAMPLE_CACHE_PASSPHRASE=example-passphrase",
		"EXAMPLE_M365_PASSWORD=example-password",
	}
	return bin, env, func() { server.Close(); os.RemoveAll(dir) }
}
