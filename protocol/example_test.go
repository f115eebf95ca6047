package protocol_test

import (
	"log"
	"os"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

var exampleCredential = protocol.Credential{
	Profile:     "vbr",
	Product:     "vbr",
	URL:         "https://vbr.example.com:9419",
	Username:    "backup-admin",
	TokenType:   "Bearer",
	AccessToken: "eyJexample",
	ExpiresAt:   time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	Source:      "cache",
}

// Write writes one credential in each of `get`'s formats.
func ExampleWrite() {
	for _, format := range []string{protocol.FormatJSON, protocol.FormatToken, protocol.FormatHeader, protocol.FormatEnv} {
		if err := protocol.Write(os.Stdout, format, exampleCredential); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// {"profile":"vbr","product":"vbr","url":"https://vbr.example.com:9419","username":"backup-admin","token_type":"Bearer","access_token":"eyJexample","expires_at":"2026-12-01T09:00:00Z","source":"cache"}
	// eyJexample
	// Authorization: Bearer eyJexample
	// VEEAM_ACCESS_TOKEN=eyJexample
	// VEEAM_TOKEN_EXPIRES_AT=2026-12-01T09:00:00Z
}

// WriteGit answers git's credential request; a git that announced the
// authtype capability also gets the token as a bearer credential.
func ExampleWriteGit() {
	req, err := protocol.ReadGit(strings.NewReader("capability[]=authtype\nprotocol=https\nhost=git.example.com\n\n"))
	if err != nil {
		log.Fatal(err)
	}
	a := protocol.GitAnswer{Username: "backup-admin", Password: exampleCredential.AccessToken, PasswordExpiry: exampleCredential.ExpiresAt}
	if req.HasCapability("authtype") {
		a.AuthType, a.Credential = "Bearer", exampleCredential.AccessToken
	}
	if err := protocol.WriteGit(os.Stdout, a); err != nil {
		log.Fatal(err)
	}
	// Output:
	// capability[]=authtype
	// authtype=Bearer
	// credential=eyJexample
	// username=backup-admin
	// password=eyJexample
	// password_expiry_utc=1796115600
}

// WriteExecCredential answers kubectl's exec plugin call in the
// apiVersion KUBERNETES_EXEC_INFO asked for.
func ExampleWriteExecCredential() {
	info, err := protocol.ParseExecInfo(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`)
	if err != nil {
		log.Fatal(err)
	}
	if err := protocol.WriteExecCredential(os.Stdout, info.APIVersion, exampleCredential.AccessToken, exampleCredential.ExpiresAt); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"expirationTimestamp":"2026-12-01T09:00:00Z","token":"eyJexample"}}
}
