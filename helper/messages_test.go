package helper_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	msgUser     = `corp\svc-backup`
	msgPassword = "pw-messages-Q4"
)

// A password_env naming an unset variable: the message names that
// variable and what to do, not the list of every secret source.
func TestUnsetPasswordEnvNamesTheVariable(t *testing.T) {
	e := testenv.New(t)
	e.M365Profile(emulator.Options{}, msgUser, msgPassword, "VB365_PW_UNSET_7", nil)
	delete(e.Vars, "VB365_PW_UNSET_7")
	h := e.Helper()
	os.Unsetenv("VB365_PW_UNSET_7")
	_, err := h.Get(context.Background(), helper.Request{})
	if exitcode.Of(err) != exitcode.Interaction || !strings.Contains(err.Error(), "$VB365_PW_UNSET_7") ||
		!strings.Contains(err.Error(), "not set") || !strings.Contains(err.Error(), "login -p m365") || strings.Contains(err.Error(), "password_command") {
		t.Fatalf("%v", err)
	}
}

// A password_env variable that is exported but empty is called empty, not unset.
func TestEmptyPasswordEnvSaysEmpty(t *testing.T) {
	e := testenv.New(t)
	e.M365Profile(emulator.Options{}, msgUser, msgPassword, "VB365_PW_EMPTY_7", nil)
	delete(e.Vars, "VB365_PW_EMPTY_7")
	h := e.Helper()
	t.Setenv("VB365_PW_EMPTY_7", "")
	_, err := h.Get(context.Background(), helper.Request{})
	if exitcode.Of(err) != exitcode.Interaction || !strings.Contains(err.Error(), "$VB365_PW_EMPTY_7, which is empty") {
		t.Fatalf("%v", err)
	}
}

// A ca_file that does not verify the server: the message names the file
// and the issuer of the server's certificate.
func TestFailingCAFileNamesFileAndIssuer(t *testing.T) {
	e := testenv.New(t)
	other := filepath.Join(e.Dir, "other-ca.pem")
	if err := os.WriteFile(other, otherCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	em := e.M365Profile(emulator.Options{}, msgUser, msgPassword, "VB365_PASSWORD", func(p *testenv.Profile) { p.CAFile = other })
	block, _ := pem.Decode(em.CACertPEM())
	serverCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Helper().Get(context.Background(), helper.Request{})
	if exitcode.Of(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "ca_file "+other) ||
		!strings.Contains(err.Error(), serverCert.Issuer.String()) || strings.Contains(err.Error(), "set ca_file") {
		t.Fatalf("issuer %q: %v", serverCert.Issuer, err)
	}
	if n := em.Counts().TokenCalls; n != 0 {
		t.Errorf("%d token calls reached an untrusted server", n)
	}
}

// otherCA is the PEM of a fresh CA that did not issue the emulator's certificate.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "another CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// A server that accepts the connection and never completes the TLS
// handshake: the configured timeout's wording, not Go's "TLS handshake timeout".
func TestSilentServerTimeoutWording(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	e := testenv.New(t)
	e.Vars["VB365_PASSWORD"] = msgPassword
	e.Profiles(testenv.Profile{Name: "m365", Product: "vb365", URL: "https://" + l.Addr().String(), Username: "u", PasswordEnv: "VB365_PASSWORD", Timeout: "300ms"})
	_, err = e.Helper().Get(context.Background(), helper.Request{})
	want := fmt.Sprintf("profile \"m365\": no answer from https://%s within timeout 300ms", l.Addr())
	if exitcode.Of(err) != exitcode.Unreachable || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "handshake") {
		t.Fatalf("%v", err)
	}
}
