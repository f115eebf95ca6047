package helper_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"

	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

// A Go program gets its Veeam REST API tokens from the same encrypted
// cache as the command line: here an oauth2.Client calls a Veeam Backup &
// Replication server (emulated on loopback) with a token the helper
// granted once and then answers from the cache.
func Example() {
	server, err := emulator.New(emulator.Options{Product: "vbr", TLS: true})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	server.AddUser("backup-admin", "example-password")

	dir, err := os.MkdirTemp("", "helper-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, server.CACertPEM(), 0o600); err != nil {
		log.Fatal(err)
	}
	// Secrets come from the environment, never from the configuration.
	os.Setenv("EXAMPLE_VBR_PASSWORD", "example-password")
	os.Setenv("EXAMPLE_CACHE_PASSPHRASE", "example-passphrase")

	cfg, err := config.Parse([]byte(fmt.Sprintf(`
[cache]
backend = "file"
dir = %q
passphrase_env = "EXAMPLE_CACHE_PASSPHRASE"

[profiles.vbr]
product = "vbr"
url = %q
username = "backup-admin"
password_env = "EXAMPLE_VBR_PASSWORD"
ca_file = %q
`, filepath.Join(dir, "cache"), server.URL(), caFile)))
	if err != nil {
		log.Fatal(err)
	}
	h := helper.New(cfg)

	// The oauth2 client trusts the emulator's certificate as the helper
	// does through ca_file.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, server.Client())
	client := oauth2.NewClient(ctx, h.TokenSource(ctx, "vbr"))
	req, err := http.NewRequest("GET", server.URL()+"/api/v1/serverTime", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("x-api-version", "1.1-rev0") // every VBR REST call names its API revision
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)

	// A second program (here: a second Helper) finds the token cached.
	r, err := helper.New(cfg).Get(ctx, helper.Request{Profile: "vbr"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Source, r.TokenType, server.Valid(r.AccessToken))
	// Output:
	// 200 OK
	// cache Bearer true
}
