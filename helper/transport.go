package helper

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// maxBody bounds what we read from a server: token answers are small.
const maxBody = 1 << 20

// readCAPool reads the CA file at path (what names it in errors) as the
// roots to trust; a file another user could change is refused.
func readCAPool(path, what string) (*x509.CertPool, error) {
	pem, err := config.ReadTrusted(path, what, false)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, exitcode.UsageError("%s %s holds no PEM certificate", what, path)
	}
	return pool, nil
}

// newHTTPClient builds the per-profile client: TLS 1.2+, the profile's CA
// file (replacing the system roots) and SPKI pin, proxies from the environment.
func newHTTPClient(p *config.Profile) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if p.CAFile != "" {
		pool, err := readCAPool(p.CAFile, config.FileCA)
		if err != nil {
			return nil, prefixProfile(p, err)
		}
		tc.RootCAs = pool
	}
	if p.InsecureSkipVerify {
		tc.InsecureSkipVerify = true
	}
	if p.PinSHA256 != "" {
		pin, _ := config.DecodePin(p.PinSHA256) // validated with the config
		if p.CAFile == "" {
			// A pin alone is how people trust a self-signed appliance
			// certificate: the pin replaces chain verification.
			tc.InsecureSkipVerify = true
		}
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no server certificate")
			}
			cert, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return err
			}
			sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
			if string(sum[:]) != string(pin) {
				return errors.New("server key does not match pin_sha256")
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:           http.ProxyFromEnvironment,
		TLSClientConfig: tc,
		// No handshake timeout of its own: the profile's timeout bounds the
		// whole call, so a slow server gets one wording however far it got.
		TLSHandshakeTimeout:   0,
		ResponseHeaderTimeout: 0, // bounded by the call's context instead
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		// Token endpoints never redirect; following one could send a
		// password elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// call is one HTTP request to a Veeam server.
type call struct {
	method  string
	path    string
	query   url.Values
	form    url.Values
	bearer  string
	cookies string
	header  map[string]string
	// versioned: the call carries x-api-version (vbr, vbaws, vbgcp); see doVersioned.
	versioned bool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends c, retrying 429/502/503/504 (honouring Retry-After) while the
// context's deadline allows. Other answers, 4xx included, are returned as is.
func (s *client) do(ctx context.Context, c call) (*answer, error) {
	u := s.p.URL + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	s.h.warnTransport(s.p)
	s.remember(c)
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		var body io.Reader
		if c.form != nil {
			body = strings.NewReader(c.form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, c.method, u, body)
		if err != nil {
			return nil, exitcode.UsageError("profile %q: bad url: %v", s.p.Name, err)
		}
		if c.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "veeam-credential-helper/"+Version)
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		if c.cookies != "" {
			req.Header.Set("Cookie", c.cookies)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		s.h.debugf("%s %s (attempt %d)", c.method, redactURL(u), attempt)
		start := time.Now()
		resp, err := s.http.Do(req)
		if err != nil {
			return nil, s.transportError(ctx, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return nil, s.transportError(ctx, err)
		}
		s.h.debugf("HTTP %d, %d bytes, %s", resp.StatusCode, len(b), time.Since(start).Round(time.Millisecond))
		a := &answer{status: resp.StatusCode, header: resp.Header, body: b}
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return a, nil
		}
		// Retry-After is a floor, never a reason to go faster than the
		// backoff: "Retry-After: 0" (or a past date) made a hot loop of
		// thousands of calls per second at a server asking us to slow down.
		ra := resp.Header.Get("Retry-After")
		if ra == "" {
			ra = bodyRetryAfter(b)
		}
		wait := max(retryAfter(ra, backoff), backoff)
		backoff *= 2
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, exitcode.Errorf(exitcode.Unreachable, "profile %q: server busy (HTTP %d) after %d attempts within timeout %s%s",
				s.p.Name, resp.StatusCode, attempt, s.p.Timeout.Duration, s.says(b))
		}
		s.h.debugf("HTTP %d: retrying in %s", resp.StatusCode, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, s.transportError(ctx, ctx.Err())
		case <-t.C:
		}
	}
}

func retryAfter(h string, def time.Duration) time.Duration {
	if h == "" {
		return def
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return 0
	}
	return def
}

// bodyRetryAfter is the retryAfter seconds VSPC puts in a 429 body
// (REST API reference, "Throttling": {"errors":[{"type":"transport",
// "code":429,"retryAfter":25}]}, no Retry-After header), or "".
func bodyRetryAfter(body []byte) string {
	var v struct {
		Errors []struct {
			RetryAfter json.Number `json:"retryAfter"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Errors) == 0 {
		return ""
	}
	return v.Errors[0].RetryAfter.String()
}

func (s *client) transportError(ctx context.Context, err error) error {
	var nerr net.Error
	if ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return exitcode.Wrapf(exitcode.Unreachable, err, "profile %q: no answer from %s within timeout %s (raise the profile's timeout, or check that the server is up)", s.p.Name, s.p.URL, s.p.Timeout.Duration)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // drop the URL: it may carry a query
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return exitcode.Wrapf(exitcode.Unreachable, err, "profile %q: %s closed the connection without an answer", s.p.Name, s.p.URL)
	}
	var cerr *tls.CertificateVerificationError
	if errors.As(err, &cerr) {
		return exitcode.Wrapf(exitcode.Unreachable, err, "profile %q: %s", s.p.Name, untrustedMessage(s.p, cerr))
	}
	var oerr *net.OpError
	if errors.As(err, &oerr) {
		return exitcode.Wrapf(exitcode.Unreachable, err, "profile %q: cannot reach %s: %v", s.p.Name, s.p.URL, oerr.Err)
	}
	return exitcode.Wrapf(exitcode.Unreachable, err, "profile %q: %s: %v", s.p.Name, s.p.URL, err)
}

func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// secretFormFields are the form fields whose values are secrets: a server
// that echoes one in its error text must not get it printed.
var secretFormFields = []string{"password", "assertion", "refresh_token", "mfa_code", "mfa_token", "token", "client_secret", "code"}

// remember keeps what c sends that is secret, to redact it from the
// server's answer (the secret sources add theirs in client.secret).
func (s *client) remember(c call) {
	for _, k := range secretFormFields {
		if v := c.form.Get(k); v != "" {
			s.sent = append(s.sent, v)
		}
	}
	if c.bearer != "" {
		s.sent = append(s.sent, c.bearer)
	}
	for _, kv := range strings.Split(c.cookies, "; ") {
		if _, v, ok := strings.Cut(kv, "="); ok && v != "" {
			s.sent = append(s.sent, v)
		}
	}
}

// says is serverSays with every secret this client sent redacted.
func (s *client) says(body []byte) string { return serverSays(body, s.sent...) }

// redact replaces each secret (as sent, and URL-encoded as a form carries
// it) in text by "[redacted]", longest first so that a secret containing
// another is replaced whole.
func redact(text string, secrets ...string) string {
	var all []string
	for _, v := range secrets {
		if v == "" {
			continue
		}
		all = append(all, v)
		if q := url.QueryEscape(v); q != v {
			all = append(all, q)
		}
	}
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	for _, v := range all {
		text = strings.ReplaceAll(text, v, "[redacted]")
	}
	return text
}

// serverSays extracts the human part of an error body: VB365's message,
// problem+json's detail or title. Never the stack trace, never raw bytes,
// never one of secrets (those the call sent: a server may echo them), and
// no control character (see config.OneLine).
func serverSays(body []byte, secrets ...string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var parts []string
	// VB365 message, problem+json detail, the cloud appliances' details,
	// VSPC's errors[0].message, then the vaguer fields.
	if list, ok := m["errors"].([]any); ok && len(list) > 0 && m["message"] == nil {
		if first, ok := list[0].(map[string]any); ok {
			if v, ok := first["message"].(string); ok && strings.TrimSpace(v) != "" {
				m["message"] = v
			} else if v, ok := first["type"].(string); ok && strings.TrimSpace(v) != "" {
				m["message"] = v + " error"
			}
		}
	}
	// ASP.NET API versioning: {"error":{"code":"UnsupportedApiVersion","message":…}}.
	if inner, ok := m["error"].(map[string]any); ok && m["message"] == nil {
		if v, ok := inner["message"].(string); ok {
			m["message"] = v
		}
		if v, ok := inner["code"].(string); ok && m["errorCode"] == nil {
			m["errorCode"] = v
		}
	}
	for _, k := range []string{"message", "Message", "detail", "details", "title", "error_description", "error"} {
		if v, ok := m[k].(string); ok && strings.TrimSpace(v) != "" {
			parts = append(parts, v)
			break
		}
	}
	if code, ok := m["errorCode"].(string); ok && code != "" {
		parts = append(parts, "("+code+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + exitcode.OneLine(redact(strings.Join(parts, " "), secrets...), 200)
}

// statusError maps a non-2xx token-endpoint answer to an exit code. An API
// version the server refuses is the profile's configuration, not its
// credentials: exit 2 naming api_version.
func (s *client) statusError(a *answer, what string) error {
	msg := s.says(a.body)
	if named, ok := unsupportedVersion(a.body); ok && a.status == 400 {
		sent := s.apiVersion
		if sent == "" {
			sent = s.p.APIVersion
		}
		supports := ""
		if len(named) > 0 {
			supports = " (it names " + strings.Join(named, ", ") + ")"
		}
		if sent == "" {
			return exitcode.Errorf(exitcode.Usage, "profile %q: the server requires an API version%s: set api_version in the profile", s.p.Name, supports)
		}
		return exitcode.Errorf(exitcode.Usage, "profile %q: the server does not support API version %q%s: set api_version in the profile to a version it supports",
			s.p.Name, sent, supports)
	}
	switch {
	case a.status == 400 || a.status == 401 || a.status == 403:
		return exitcode.Errorf(exitcode.Rejected, "profile %q: server rejected the %s (HTTP %d)%s", s.p.Name, what, a.status, msg)
	case a.status == 404 || a.status == 405:
		return exitcode.Errorf(exitcode.Usage, "profile %q: no such endpoint on %s (HTTP %d): check url and product", s.p.Name, s.p.URL, a.status)
	case a.status == 408 || a.status == 429 || a.status >= 500:
		return exitcode.Errorf(exitcode.Unreachable, "profile %q: server error (HTTP %d)%s", s.p.Name, a.status, msg)
	default:
		return exitcode.Errorf(exitcode.Unexpected, "profile %q: unexpected HTTP %d from %s%s", s.p.Name, a.status, s.p.URL, msg)
	}
}

// unsupportedVersion reports whether an error body refuses the request's API
// version, and the revisions ("1.1-rev0") it names as supported. It knows
// VBR's "Unsupported RESTAPI version. The following versions are supported:
// v1.0-rev1, …", the same sentence from the cloud appliances, and ASP.NET
// API versioning's "does not support the API version" and "An API version
// is required" (VB for Azure's api-version; codes UnsupportedApiVersion,
// ApiVersionUnspecified).
func unsupportedVersion(body []byte) (named []string, ok bool) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil, false
	}
	var text strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			text.WriteString(strings.ToLower(v))
			text.WriteByte('\n')
		case map[string]any:
			for k, x := range v {
				if k != "stackTrace" && k != "exception" {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(m)
	t := text.String()
	// Any mention of the API version in a 400 is about the version: no
	// credential error talks of it, and a sentence we do not know must not
	// end as "rejected credentials".
	switch {
	case strings.Contains(t, "restapi version"), strings.Contains(t, "api version"), strings.Contains(t, "api-version"),
		strings.Contains(t, "unsupportedapiversion"), strings.Contains(t, "apiversionunspecified"):
	default:
		return nil, false
	}
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(t, func(r rune) bool {
		return r == ' ' || r == ',' || r == ';' || r == '\n' || r == '\'' || r == '"' || r == '(' || r == ')'
	}) {
		w = strings.TrimSuffix(strings.TrimPrefix(w, "v"), ".")
		if isRevision(w) && !seen[w] {
			seen[w] = true
			named = append(named, w)
		}
	}
	return named, true
}

// isRevision reports whether s is "<major>.<minor>-rev<n>".
func isRevision(s string) bool {
	ver, rev, ok := strings.Cut(s, "-rev")
	major, minor, ok2 := strings.Cut(ver, ".")
	return ok && ok2 && digits(major) && digits(minor) && digits(rev)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// newestRevision is the newest of revs other than sent, or "".
func newestRevision(revs []string, sent string) string {
	best := ""
	for _, r := range revs {
		if r != sent && (best == "" || revisionLess(best, r)) {
			best = r
		}
	}
	return best
}

// revisionLess orders "1.10-rev0" after "1.9-rev2".
func revisionLess(a, b string) bool {
	num := func(s string) [3]int {
		ver, rev, _ := strings.Cut(s, "-rev")
		major, minor, _ := strings.Cut(ver, ".")
		x, _ := strconv.Atoi(major)
		y, _ := strconv.Atoi(minor)
		z, _ := strconv.Atoi(rev)
		return [3]int{x, y, z}
	}
	x, y := num(a), num(b)
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}

// tokenAnswer is the union of the products' token responses.
type tokenAnswer struct {
	AccessToken  string  `json:"access_token"`
	RefreshToken string  `json:"refresh_token"`
	TokenType    string  `json:"token_type"`
	ExpiresIn    float64 `json:"expires_in"`
	Expires      string  `json:".expires"`
	Issued       string  `json:".issued"`
	MFAToken     string  `json:"mfa_token"`
}

// decodeToken parses a 200 answer. Anything else than a JSON token object
// (a proxy's HTML page, truncated JSON) is a server fault: exit 4.
func (s *client) decodeToken(a *answer, what string) (*tokenAnswer, error) {
	if a.status < 200 || a.status > 299 {
		return nil, s.statusError(a, what)
	}
	var t tokenAnswer
	if err := json.Unmarshal(a.body, &t); err != nil {
		return nil, exitcode.Errorf(exitcode.Unreachable, "profile %q: the server's answer is not a token response (%s, %d bytes)",
			s.p.Name, contentType(a.header), len(a.body))
	}
	return &t, nil
}

func contentType(h http.Header) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		return "no content type"
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return exitcode.OneLine(ct, 60)
}

// maxLifetime caps what a server may claim: a larger expires_in overflows
// time.Duration (it came out in the past), and an .expires after year 9999
// cannot be stored (the cache entry failed to encode: a false exit 6).
const maxLifetime = 10 * 365 * 24 * time.Hour

// expiry trusts expires_in, then .expires, as the vendors document, capped
// at maxLifetime from now.
func (t *tokenAnswer) expiry(now time.Time) (time.Time, error) {
	limit := now.Add(maxLifetime)
	if t.ExpiresIn > 0 {
		if t.ExpiresIn >= maxLifetime.Seconds() {
			return limit, nil
		}
		return now.Add(time.Duration(t.ExpiresIn * float64(time.Second))), nil
	}
	if t.Expires != "" {
		if e, err := time.Parse(time.RFC3339Nano, t.Expires); err == nil {
			if e.After(limit) {
				return limit, nil
			}
			return e, nil
		}
	}
	return time.Time{}, fmt.Errorf("no expires_in or .expires")
}

// untrustedMessage says why the server's certificate did not verify and
// what to change: with ca_file set, that file and the issuer it lacks.
func untrustedMessage(p *config.Profile, cerr *tls.CertificateVerificationError) string {
	issuer, subject := "unknown issuer", "unknown subject"
	if len(cerr.UnverifiedCertificates) > 0 {
		leaf := cerr.UnverifiedCertificates[0]
		issuer, subject = exitcode.OneLine(leaf.Issuer.String(), 120), exitcode.OneLine(leaf.Subject.String(), 120)
	}
	var hostErr x509.HostnameError
	if errors.As(cerr.Err, &hostErr) {
		return fmt.Sprintf("TLS: the server's certificate (subject %q) is not valid for %s: %v (fix url to a name the certificate holds)", subject, p.URL, exitcode.OneLine(hostErr.Error(), 200))
	}
	if p.CAFile != "" {
		return fmt.Sprintf("TLS: the server's certificate (subject %q, issued by %q) does not verify with ca_file %s: put the certificate of %q in that file, or pin the server key with pin_sha256 (`veeam-credential-helper init` shows it)",
			subject, issuer, p.CAFile, issuer)
	}
	return fmt.Sprintf("TLS: the server's certificate (subject %q, issued by %q) is not trusted by this system: set ca_file to the certificate of %q, or pin the server key with pin_sha256 (`veeam-credential-helper init` shows it)",
		subject, issuer, issuer)
}
