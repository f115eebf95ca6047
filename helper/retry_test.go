package helper_test

// Faults between the engine and the server: busy answers retried within
// the profile's timeout (Retry-After honoured), rejections never retried,
// garbage, dropped and hung connections reported as exit 4.

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
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
