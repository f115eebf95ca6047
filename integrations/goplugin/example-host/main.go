// Command example-host is a minimal go-plugin host: it launches
// veeam-credential-helper with plugin.NewClient, asks it for a credential
// and prints the profile, the expiry and where the token came from. It never
// prints the token.
//
//	example-host -plugin /usr/local/bin/veeam-credential-helper -profile m365
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
)

func main() {
	os.Exit(run())
}

func run() int {
	path := flag.String("plugin", "veeam-credential-helper", "path of the veeam-credential-helper binary")
	profile := flag.String("profile", "", "profile name (default: the configuration's default_profile)")
	minValid := flag.Duration("min-valid", 0, "the token must stay valid at least this long")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: example-host -plugin PATH -profile NAME")
		return 2
	}

	// The plugin gets the host's environment (VEEAM_CREDENTIAL_HELPER_CONFIG,
	// the file backend's passphrase, ...) plus go-plugin's handshake variables.
	client := plugin.NewClient(goplugin.ClientConfig(exec.Command(*path, "plugin"), nil))
	defer client.Kill()
	helper, err := goplugin.Dispense(client)
	if err != nil {
		fmt.Fprintf(os.Stderr, "example-host: %v\n", err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cred, err := helper.GetCredential(ctx, goplugin.Request{Profile: *profile, MinValid: *minValid})
	if err != nil {
		fmt.Fprintf(os.Stderr, "example-host: %v\n", err)
		if code := exitcode.Of(err); code > 1 {
			return code
		}
		return 1
	}
	// Use cred.AccessToken as "Authorization: Bearer ..." on the profile's
	// REST API; never print or log it.
	fmt.Printf("profile:    %s\n", cred.Profile)
	fmt.Printf("product:    %s\n", cred.Product)
	fmt.Printf("url:        %s\n", cred.URL)
	fmt.Printf("expires at: %s (in %s)\n", cred.ExpiresAt.UTC().Format(time.RFC3339), time.Until(cred.ExpiresAt).Round(time.Second))
	fmt.Printf("source:     %s\n", cred.Source)
	return 0
}
