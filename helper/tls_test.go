package helper_test

// TLS trust: the profile's CA file, its key pin alone or with the CA, the
// refusal of an unknown CA, a wrong pin or an old TLS version before any
// secret is sent, and the warnings of an unverified or plain connection.

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// spkiPin is the pin_sha256 of a PEM certificate's public key.
func spkiPin(t *testing.T, pemBytes []byte) string {
	t.Helper()
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// tlsHome is m365Home whose profile's TLS keys are set by tlsKeys (the CA
// file is cleared first).
func tlsHome(t *testing.T, tlsKeys func(x *home, p *testenv.Profile)) (*home, *emulator.Emulator) {
	t.Helper()
	var x *home
	x, em := m365Home(t, emulator.Options{}, nil)
	p := x.Config.Profiles[0]
	p.CAFile = ""
	tlsKeys(x, &p)
	x.use(p)
	return x, em
}

func TestTLSUnknownCARefused(t *testing.T) {
	for name, keys := range map[string]func(*home, *testenv.Profile){
		"system roots": func(*home, *testenv.Profile) {},
		"another CA":   func(x *home, p *testenv.Profile) { p.CAFile = x.file("other-ca.pem", string(otherCA(t))) },
	} {
		t.Run(name, func(t *testing.T) {
			x, em := tlsHome(t, keys)
			msg := x.fail(m365, helper.ExitUnreachable)
			if !strings.Contains(msg, "TLS") || !strings.Contains(msg, "ca_file") || !strings.Contains(msg, "pin_sha256") {
				t.Errorf("message %q does not name ca_file and pin_sha256", msg)
			}
			if n := em.Counts().TokenCalls; n != 0 {
				t.Errorf("the password reached an untrusted server: %d token calls", n)
			}
			noLeak(t, "error", msg, em, m365Password)
		})
	}
}

func TestTLSPin(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	pin := spkiPin(t, em.CACertPEM())
	wrong := sha256.Sum256([]byte("another key"))
	wrongPin := base64.StdEncoding.EncodeToString(wrong[:])
	ca := x.CAFile("vb365")
	x.mustGet(m365, helper.SourceGrant)
	for _, tc := range []struct {
		name, pin, ca string
		exit          int
	}{
		{"right pin alone", pin, "", 0},
		{"right pin, sha256/ prefix", "sha256/" + pin, "", 0},
		{"right pin with ca_file", pin, ca, 0},
		{"wrong pin alone", wrongPin, "", helper.ExitUnreachable},
		// The pin is enforced even when the chain verifies.
		{"wrong pin with ca_file", wrongPin, ca, helper.ExitUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := x.Config.Profiles[0]
			p.PinSHA256, p.CAFile = tc.pin, tc.ca
			x.use(p)
			before := em.Counts().TokenCalls
			if tc.exit == 0 {
				x.mustGet(force, helper.SourceRefresh)
				if s := x.stderr.Take(); s != "" {
					t.Errorf("a pinned connection warned: %q", s)
				}
				return
			}
			x.mustGet(m365, helper.SourceCache) // a hit opens no connection
			msg := x.fail(force, tc.exit)
			if !strings.Contains(msg, "pin_sha256") {
				t.Errorf("message %q does not name pin_sha256", msg)
			}
			if em.Counts().TokenCalls != before {
				t.Error("a request reached a server whose key does not match the pin")
			}
		})
	}
	p := x.Config.Profiles[0]
	p.PinSHA256 = "not-base64!"
	x.Profiles(p)
	if _, err := helper.LoadConfig(x.ConfigPath); exitOf(err) != helper.ExitUsage || !strings.Contains(err.Error(), "pin_sha256") {
		t.Errorf("malformed pin: %v", err)
	}
}

func TestTLSCAFileProblemsAreUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		content string
		says    string
	}{
		"missing": {"", "cannot read ca_file"},
		"not PEM": {"not a certificate\n", "holds no PEM certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			x, em := tlsHome(t, func(x *home, p *testenv.Profile) {
				p.CAFile = x.Dir + "/missing.pem"
				if tc.content != "" {
					p.CAFile = x.file("ca.pem", tc.content)
				}
			})
			if msg := x.fail(m365, helper.ExitUsage); !strings.Contains(msg, tc.says) {
				t.Errorf("message %q does not say %q", msg, tc.says)
			}
			if n := em.Counts().TokenCalls; n != 0 {
				t.Errorf("%d token calls", n)
			}
		})
	}
}

// An unverified or plain connection is warned about once per command, on
// every command, cache hits included; the warning goes to stderr only.
func TestTransportWarnings(t *testing.T) {
	t.Run("insecure_skip_verify", func(t *testing.T) {
		x, em := tlsHome(t, func(_ *home, p *testenv.Profile) { p.InsecureSkipVerify = true })
		for i, r := range []helper.Request{m365, m365, force} {
			x.command()
			x.mustGet(r, []string{helper.SourceGrant, helper.SourceCache, helper.SourceRefresh}[i])
			x.mustGet(m365, helper.SourceCache)
			if s := x.stderr.Take(); strings.Count(s, "\n") != 1 || !strings.Contains(s, "insecure_skip_verify") {
				t.Errorf("command %d: stderr %q, want one warning", i, s)
			}
		}
		if n := em.Counts(); n.Grants["password"] != 1 || n.Grants["refresh_token"] != 1 {
			t.Errorf("server saw %+v", n)
		}
	})
	t.Run("plain http", func(t *testing.T) {
		em, err := emulator.New(emulator.Options{Product: "vb365"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(em.Close)
		em.AddUser(m365User, m365Password)
		x := newHome(t)
		x.use(testenv.Profile{Name: "m365", Product: "vb365", URL: em.URL(), InsecurePlainHTTP: true, Username: m365User, PasswordFile: x.file("pw", m365Password)})
		x.mustGet(m365, helper.SourceGrant)
		x.mustGet(m365, helper.SourceCache)
		if s := x.stderr.Take(); strings.Count(s, "\n") != 1 || !strings.Contains(s, "plain http") {
			t.Errorf("stderr %q, want one warning", s)
		}
		x.command()
		x.mustGet(m365, helper.SourceCache)
		if s := x.stderr.Take(); !strings.Contains(s, "plain http") {
			t.Errorf("a cache hit of the next command did not warn: %q", s)
		}
	})
}

func TestTLS12Minimum(t *testing.T) {
	em, err := emulator.New(emulator.Options{Product: "vb365"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	em.AddUser(m365User, m365Password)
	for _, tc := range []struct {
		name     string
		min, max uint16
		exit     int
	}{
		{"TLS 1.0 only", tls.VersionTLS10, tls.VersionTLS10, helper.ExitUnreachable},
		{"TLS 1.1 only", tls.VersionTLS11, tls.VersionTLS11, helper.ExitUnreachable},
		{"TLS 1.2 only", tls.VersionTLS12, tls.VersionTLS12, 0},
		{"TLS 1.3 only", tls.VersionTLS13, tls.VersionTLS13, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(em)
			srv.TLS = &tls.Config{MinVersion: tc.min, MaxVersion: tc.max}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
			srv.StartTLS()
			defer srv.Close()
			// Control: the server really speaks this version to a client that allows it.
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10}}}
			resp, err := c.Get(srv.URL + em.ProtectedPath())
			if err != nil {
				t.Fatalf("control client: %v", err)
			}
			resp.Body.Close()
			if resp.TLS.Version != tc.max {
				t.Fatalf("control negotiated %x", resp.TLS.Version)
			}
			x := newHome(t)
			x.use(testenv.Profile{Name: "m365", Product: "vb365", URL: srv.URL, Username: m365User,
				PasswordFile: x.file("pw", m365Password), CAFile: x.file("ca.pem", string(certPEM(srv.Certificate().Raw)))})
			before := em.Counts().TokenCalls
			if tc.exit == 0 {
				x.mustGet(m365, helper.SourceGrant)
				return
			}
			x.fail(m365, tc.exit)
			if em.Counts().TokenCalls != before {
				t.Error("the password was sent over an old TLS version")
			}
		})
	}
}
