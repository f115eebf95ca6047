package helper_test

// The connection to the server: busy answers retried within the profile's
// timeout (Retry-After honoured), rejections never retried, garbage,
// dropped and hung connections reported as exit 4; TLS trust by the
// profile's CA file or key pin, the refusal of an unknown CA, a wrong pin
// or an old TLS version before any secret is sent, and the warnings of an
// unverified or plain connection.

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// timeout gives the profile a timeout.
func timeout(d string) func(*testenv.Profile) {
	return func(p *testenv.Profile) { p.Timeout = d }
}

// Busy answers are retried quietly while the timeout allows, then reported
// with the number of attempts.
func TestRetryBusyAnswers(t *testing.T) {
	for _, status := range []int{503, 429, 502, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			x, em := m365Home(t, emulator.Options{}, timeout("20s"))
			em.FailNext(2, status, 0)
			if r := x.mustGet(m365, helper.SourceGrant); !em.Valid(token(r)) {
				t.Error("token not accepted")
			}
			if n := em.Counts(); n.TokenCalls != 3 || n.Faults != 2 || n.Grants["password"] != 1 {
				t.Errorf("server saw %d calls (%d faulted, %d grants), want 3 (2, 1)", n.TokenCalls, n.Faults, n.Grants["password"])
			}
			if s := x.stderr.String(); s != "" {
				t.Errorf("a successful retry wrote stderr %q", s)
			}

			x, em = m365Home(t, emulator.Options{}, timeout("1s"))
			em.FailNext(1000, status, 0)
			msg := x.fail(m365, exitcode.Unreachable)
			n := em.Counts()
			if n.TokenCalls < 2 || n.Grants["password"] != 0 {
				t.Errorf("%d calls, %d grants: HTTP %d was not retried until the timeout", n.TokenCalls, n.Grants["password"], status)
			}
			want := fmt.Sprintf("server busy (HTTP %d) after %d attempts within timeout 1s", status, n.TokenCalls)
			if !strings.Contains(msg, want) {
				t.Errorf("message %q, want it to say %q", msg, want)
			}
			noLeak(t, "error", msg, em, m365Password)
		})
	}
}

// Retry-After is waited for when it fits the timeout, and the call gives up
// at once when it cannot: sleeping into the deadline helps nobody.
func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter time.Duration
		timeout    string
		calls      int
	}{
		{503, time.Second, "5s", 2},
		{429, 2 * time.Second, "10s", 2},
		{429, 10 * time.Second, "2s", 1},
	} {
		t.Run(fmt.Sprintf("%d %s within %s", tc.status, tc.retryAfter, tc.timeout), func(t *testing.T) {
			t.Parallel()
			x, em := m365Home(t, emulator.Options{}, timeout(tc.timeout))
			x.h.Debug = true
			em.FailNext(1, tc.status, tc.retryAfter)
			r, err := x.get("m365")
			if n := em.Counts().TokenCalls; n != tc.calls {
				t.Errorf("%d calls, want %d", n, tc.calls)
			}
			debug := x.stderr.String()
			if tc.calls == 1 {
				if exitOf(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "after 1 attempts") {
					t.Fatalf("a Retry-After beyond the timeout: %v", err)
				}
				if strings.Contains(debug, "retrying") {
					t.Errorf("it slept although the wait cannot fit: %s", debug)
				}
				return
			}
			if err != nil || r.Source != helper.SourceGrant {
				t.Fatalf("after a Retry-After: %v", err)
			}
			if want := fmt.Sprintf("HTTP %d: retrying in %s", tc.status, tc.retryAfter); !strings.Contains(debug, want) {
				t.Errorf("debug lines do not say %q:\n%s", want, debug)
			}
		})
	}
}

// A rejection is final, even with a Retry-After; other answers that no
// retry can mend are not retried either.
func TestRejectionsNeverRetried(t *testing.T) {
	for _, tc := range []struct {
		status, exit int
		says         string
	}{
		{400, exitcode.Rejected, "HTTP 400"},
		{401, exitcode.Rejected, "HTTP 401"},
		{403, exitcode.Rejected, "HTTP 403"},
		{404, exitcode.Usage, "answers 404 for /v8/token: check url"},
		{500, exitcode.Unreachable, "HTTP 500"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			x, em := m365Home(t, emulator.Options{}, timeout("20s"))
			x.h.Debug = true
			em.FailNext(1, tc.status, time.Second)
			msg := x.fail(m365, tc.exit)
			if !strings.Contains(msg, tc.says) {
				t.Errorf("message %q does not say %q", msg, tc.says)
			}
			if n := em.Counts().TokenCalls; n != 1 {
				t.Errorf("server saw %d attempts, want 1", n)
			}
			if d := x.stderr.String(); strings.Contains(d, "retrying") {
				t.Errorf("retried: %s", d)
			}
			noLeak(t, "error", msg+x.stderr.String(), em, m365Password)
		})
	}
}

// What must never be echoed of a proxy page or a truncated token answer.
var faultTexts = []string{"Web Filter", "corporate proxy", "<html", "<!DOCTYPE", "access_token", m365Password, azurePassword}

func TestServerFaultsExit4NothingCached(t *testing.T) {
	faults := []struct {
		name string
		arm  func(*emulator.Emulator)
		says string
	}{
		{"html", func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageHTML) }, "not a token response (text/html"},
		{"truncated", func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageTruncated) }, "not a token response"},
		{"empty", func(em *emulator.Emulator) { em.GarbageNext(1, emulator.GarbageEmpty) }, "not a token response"},
		{"drop", func(em *emulator.Emulator) { em.DropNext(1) }, "closed the connection"},
		{"hang", func(em *emulator.Emulator) { em.HangNext(1) }, "within timeout 1s"},
	}
	for _, product := range []string{"vb365", "vbazure"} {
		for _, f := range faults {
			t.Run(product+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				var x *home
				var em *emulator.Emulator
				req := m365
				if product == "vb365" {
					x, em = m365Home(t, emulator.Options{}, timeout("1s"))
				} else {
					x, em = azureHome(t, emulator.Options{}, timeout("1s"))
					req = helper.Request{Profile: "azure"}
				}
				f.arm(em)
				msg := x.fail(req, exitcode.Unreachable)
				if !strings.Contains(msg, f.says) {
					t.Errorf("message %q does not say %q", msg, f.says)
				}
				if len(msg) > 500 {
					t.Errorf("message is %d bytes: a body was dumped?", len(msg))
				}
				noLeak(t, "error", msg+x.stderr.String(), em, faultTexts...)
				if s := x.status(req.Profile); s.Valid || s.RefreshTokenPresent {
					t.Errorf("a fault left an entry: %+v", s)
				}
				x.mustGet(req, helper.SourceGrant)
			})
		}
	}
}

// A token endpoint that redirects never gets the password re-posted to the
// redirect target.
func TestRedirectNotFollowed(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
	}))
	defer target.Close()
	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	x := newHome(t)
	x.use(testenv.Profile{Name: "m365", Product: "vb365", URL: redirect.URL, Username: "svc",
		PasswordFile: x.file("pw", m365Password), CAFile: x.file("ca.pem", string(certPEM(redirect.Certificate().Raw)))})
	_, err := x.get("m365")
	if err == nil || targetHits.Load() != 0 {
		t.Fatalf("err %v, redirect target hit %d times", err, targetHits.Load())
	}
	noLeak(t, "error", err.Error(), nil, m365Password, target.URL)
}

func TestUnreachableServerExit4(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	x := newHome(t)
	x.use(testenv.Profile{Name: "m365", Product: "vb365", URL: "https://" + addr, Username: "svc", PasswordFile: x.file("pw", m365Password)})
	msg := x.fail(m365, exitcode.Unreachable)
	if !strings.Contains(msg, "cannot reach https://"+addr) {
		t.Errorf("message %q", msg)
	}
}

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
			msg := x.fail(m365, exitcode.Unreachable)
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
		{"wrong pin alone", wrongPin, "", exitcode.Unreachable},
		// The pin is enforced even when the chain verifies.
		{"wrong pin with ca_file", wrongPin, ca, exitcode.Unreachable},
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
	if _, err := config.Load(x.ConfigPath); exitOf(err) != exitcode.Usage || !strings.Contains(err.Error(), "pin_sha256") {
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
			if msg := x.fail(m365, exitcode.Usage); !strings.Contains(msg, tc.says) {
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
		{"TLS 1.0 only", tls.VersionTLS10, tls.VersionTLS10, exitcode.Unreachable},
		{"TLS 1.1 only", tls.VersionTLS11, tls.VersionTLS11, exitcode.Unreachable},
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
