package helper

// Fuzz targets for everything the engine parses from a server: token
// answers, error bodies and whole grant/refresh flows of every registered
// product (new products are picked up from the registry by themselves).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Secrets the fuzzed flows hold; an error must never quote them unless the
// fuzzed server itself echoed them.
const (
	fuzzPassword  = "fuzz-PW-secret-7781"
	fuzzAssertion = "fuzz-ASSERTION-secret-5519"
	fuzzMFA       = "fuzz-MFA-secret-3302"
	fuzzRefresh   = "fuzz-RT-secret-1180"
	fuzzAccess    = "fuzz-AT-secret-6604"
	fuzzMarker    = "FUZZ-STACKTRACE-MARKER"
)

var fuzzSeedBodies = []string{
	`{"access_token":"at","refresh_token":"rt","token_type":"bearer","expires_in":3600}`,
	`{"access_token":"at","token_type":"Bearer",".issued":"2026-01-01T00:00:00.0000000Z",".expires":"2026-01-01T01:00:00.0000000Z"}`,
	`{"access_token":null,"refresh_token":null,"mfa_enabled":true,"mfa_token":"m1","expires_in":0}`,
	`{"access_token":"at","expires_in":1e300}`,
	`{"access_token":"at","expires_in":-5}`,
	`{"access_token":"at","expires_in":"3600"}`,
	`{"access_token":"at",".expires":"9999-12-31T23:59:59-23:59"}`,
	`{"message":"Invalid username or password.","errorCode":"AccessDenied","stackTrace":"   at X.Y() in C:\\` + fuzzMarker + `"}`,
	`{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"Bad Request","status":400,"detail":"Invalid grant","traceId":"00-ab","errors":{"exception":["` + fuzzMarker + `"]}}`,
	`{"error":"invalid_grant","error_description":"The refresh token is expired."}`,
	"<!DOCTYPE html><html><body>proxy</body></html>",
	`{"access_token":"at","refre`,
	``,
	`null`,
	`[]`,
	`"x"`,
	`{"message":"` + strings.Repeat("very long line\n", 100) + `"}`,
}

// FuzzServerSays: whatever the body, the quoted server text is one short
// line, and a stack trace field never appears in it.
func FuzzServerSays(f *testing.F) {
	for _, b := range fuzzSeedBodies {
		f.Add([]byte(b), "msg", "Code", "trace")
	}
	f.Fuzz(func(t *testing.T, body []byte, msg, code, trace string) {
		checkSays(t, serverSays(body))
		// Structured: the stack trace must not come out, whatever the rest.
		if strings.Contains(msg+code, "STACKTRACE") {
			return
		}
		for _, shape := range []string{
			`{"message":%q,"errorCode":%q,"stackTrace":%q}`,
			`{"title":%q,"detail":%q,"errors":{"exception":[%q]}}`,
			`{"error":%q,"error_description":%q,"stackTrace":%q}`,
		} {
			b := fmt.Sprintf(shape, msg, code, fuzzMarker+trace)
			out := serverSays([]byte(b))
			checkSays(t, out)
			if strings.Contains(out, "STACKTRACE") {
				t.Fatalf("serverSays(%q) = %q: quotes the stack trace", b, out)
			}
		}
	})
}

func checkSays(t *testing.T, s string) {
	t.Helper()
	if s == "" {
		return
	}
	if !strings.HasPrefix(s, ": ") {
		t.Fatalf("serverSays = %q: no \": \" prefix", s)
	}
	if strings.ContainsAny(s, "\r\n\t\v\f") || strings.Contains(s, "\u2028") {
		t.Fatalf("serverSays = %q: not one line", s)
	}
	if n := utf8.RuneCountInString(s); n > 202 {
		t.Fatalf("serverSays is %d runes", n)
	}
}

// FuzzDecodeToken: any status and body give a token or an *exitcode.Error with a
// documented exit code and a one-line message that never quotes the body
// beyond the server's message text.
func FuzzDecodeToken(f *testing.F) {
	for _, b := range fuzzSeedBodies {
		for _, st := range []int{200, 400, 401, 404, 415, 429, 500, 503} {
			f.Add(st, "application/json", []byte(b))
		}
	}
	f.Add(200, "text/html; charset=utf-8", []byte("<html>Web Filter</html>"))
	s := &client{h: &Helper{Now: time.Now}, p: &config.Profile{Name: "fuzz", URL: "https://fuzz.example:4443"}}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ctype)
		a := &answer{status: status, header: h, body: body}
		tok, err := s.decodeToken(a, "password grant")
		if err != nil {
			checkEngineError(t, err, body)
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("HTTP %d decoded as a token", status)
		}
		e, err := s.entry(tok)
		if err != nil {
			checkEngineError(t, err, body)
			return
		}
		checkEntry(t, e, "password")
	})
}

// checkEngineError: a documented exit code, one line, and no secret or
// stack trace unless the fuzzed server sent it in a quotable field.
func checkEngineError(t *testing.T, err error, body []byte) {
	t.Helper()
	e := exitcode.AsError(err)
	switch e.Exit {
	case exitcode.Unexpected, exitcode.Usage, exitcode.Rejected, exitcode.Unreachable, exitcode.Interaction, exitcode.Cache:
	default:
		t.Fatalf("exit %d for %v", e.Exit, err)
	}
	if strings.ContainsAny(e.Msg, "\r\n") {
		t.Fatalf("message not one line: %q", e.Msg)
	}
	if utf8.RuneCountInString(e.Msg) > 400 {
		t.Fatalf("message is %d runes", utf8.RuneCountInString(e.Msg))
	}
	for _, s := range []string{fuzzPassword, fuzzAssertion, fuzzMFA, fuzzRefresh, fuzzAccess, fuzzMarker} {
		if strings.Contains(e.Msg, s) && !bytes.Contains(body, []byte(s)) {
			t.Fatalf("message %q holds %q, which the server did not send", e.Msg, s)
		}
	}
	if strings.Contains(e.Msg, fuzzMarker) && !serverQuoted(body, fuzzMarker) {
		t.Fatalf("message %q quotes a stack trace", e.Msg)
	}
}

// serverQuoted reports whether s is in a field serverSays may quote.
func serverQuoted(body []byte, s string) bool {
	return strings.Contains(serverSays(body), s)
}

// checkEntry: a success is a usable, storable entry. Only a static API key
// (vspc grant "api-key") has no expiry.
func checkEntry(t *testing.T, e cache.Entry, grant string) {
	t.Helper()
	if e.AccessToken == "" {
		t.Fatal("entry without an access token")
	}
	if e.ExpiresAt.IsZero() && grant != "api-key" {
		t.Fatal("entry without an expiry")
	}
	b, err := cache.EncodeEntry(e)
	if err != nil {
		t.Fatalf("entry cannot be stored: %v (expires %v)", err, e.ExpiresAt)
	}
	back, err := cache.DecodeEntry(b)
	if err != nil || !back.ExpiresAt.Equal(e.ExpiresAt) || back.AccessToken != e.AccessToken {
		t.Fatalf("entry does not round-trip: %v", err)
	}
}

// fuzzServer answers every request with one fuzzed response.
type fuzzServer struct {
	status     int
	ctype      string
	retryAfter string
	cookie     string
	body       []byte
	calls      int
}

func (fs *fuzzServer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	fs.calls++
	h := http.Header{}
	h.Set("Content-Type", fs.ctype)
	if fs.retryAfter != "" {
		h.Set("Retry-After", fs.retryAfter)
	}
	if fs.cookie != "" {
		h.Add("Set-Cookie", fs.cookie)
	}
	return &http.Response{StatusCode: fs.status, Header: h, Body: io.NopCloser(bytes.NewReader(fs.body)),
		ContentLength: int64(len(fs.body)), Request: r, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// fuzzProfiles is one profile per registered product and grant, built
// through ParseConfig so each product's own validation applies.
func fuzzProfiles(f *testing.F) []*config.Profile {
	var out []*config.Profile
	names := config.ProductNames()
	sort.Strings(names)
	for _, name := range names {
		for _, g := range config.Grants(name) {
			// The first variant the product's validation accepts.
			var err error
			for _, extra := range []string{
				"client_id = \"user-1.tenant-1\"\napi_version = \"1.0\"\n",
				"client_id = \"user-1.tenant-1\"\n",
				"api_version = \"1.0\"\n",
				"",
			} {
				text := fmt.Sprintf(`[profiles.p]
product = %q
url = "https://fuzz.example:4443"
username = 'corp\fuzz'
grant = %q
timeout = "1s"
%s`, name, g, extra)
				var cfg *config.Config
				if cfg, err = config.Parse([]byte(text)); err == nil {
					out = append(out, cfg.Profiles["p"])
					break
				}
			}
			if err != nil {
				f.Logf("product %s grant %s: not fuzzed (%v)", name, g, err)
			}
		}
	}
	if len(out) == 0 {
		f.Fatal("no product profile to fuzz")
	}
	return out
}

// FuzzProductAnswers runs every product's grant, refresh and logout against
// a server answering a fuzzed status, headers and body: no panic, no hang,
// a documented exit code, no secret or stack trace in the message, and a
// success is a storable entry.
func FuzzProductAnswers(f *testing.F) {
	profiles := fuzzProfiles(f)
	for _, b := range fuzzSeedBodies {
		for _, st := range []int{200, 400, 401, 500, 503} {
			f.Add(uint8(0), st, "application/json; charset=utf-8", "", "", []byte(b))
		}
	}
	f.Add(uint8(1), 429, "application/json", "1", "", []byte(`{"message":"slow down"}`))
	// Found by this target: "Retry-After: 0" (or a past date) retried in a
	// hot loop, thousands of calls within the budget.
	f.Add(uint8(11), 504, "0", "0", "", []byte("0"))
	f.Add(uint8(0), 503, "application/json", "Wed, 21 Oct 2015 07:28:00 GMT", "", []byte(`{}`))
	f.Add(uint8(2), 200, "application/json", "", ".AspNetCore.Antiforgery.vb365=af-1; Path=/; Secure", []byte(fuzzSeedBodies[0]))
	f.Fuzz(func(t *testing.T, which uint8, status int, ctype, retryAfter, cookie string, body []byte) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		if status == 101 { // a protocol switch is not an answer net/http hands over
			status = 200
		}
		p := profiles[int(which)%len(profiles)]
		srv := &fuzzServer{status: status, ctype: ctype, retryAfter: retryAfter, cookie: cookie, body: body}
		h := &Helper{Now: time.Now, Store: nopStore{}, Locker: nopLocker{}}
		s := &client{h: h, p: p, http: &http.Client{Transport: srv, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			req: Request{Password: fuzzPassword, Assertion: fuzzAssertion, MFACode: fuzzMFA}}
		// A short budget: retries of 429/503 give up at once rather than sleep.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		old := cache.Entry{AccessToken: fuzzAccess, RefreshToken: fuzzRefresh, ExpiresAt: time.Now().Add(time.Minute)}
		e, err := productOf(p).grant(ctx, s)
		if err != nil {
			checkEngineError(t, err, body)
		} else {
			checkEntry(t, e, p.Grant)
		}
		e, err = productOf(p).refresh(ctx, s, old)
		if err != nil {
			checkEngineError(t, err, body)
		} else {
			checkEntry(t, e, p.Grant)
		}
		if err := productOf(p).logout(ctx, s, old); err != nil {
			checkEngineError(t, err, body)
		}
		if srv.calls > 10 {
			t.Fatalf("%d calls for one grant, refresh and logout", srv.calls)
		}
	})
}

type nopStore struct{}

func (nopStore) Get(string) ([]byte, error) { return nil, cache.ErrNotFound }
func (nopStore) Set(string, []byte) error   { return nil }
func (nopStore) Remove(string) error        { return nil }
func (nopStore) Backend() string            { return "none" }

type nopLocker struct{}

func (nopLocker) Lock(context.Context, string) (func(), error) { return func() {}, nil }
