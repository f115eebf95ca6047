package testenv

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
)

// M365Profile starts the home's vb365 emulator (opts with Product set to
// vb365), registers user with password, puts password in Vars[passwordEnv]
// and writes a config with one profile "m365" for that user: password from
// passwordEnv, the emulator's CA as ca_file, then what set changes (set may
// be nil).
func (e *Env) M365Profile(opts emulator.Options, user, password, passwordEnv string, set func(*Profile)) *emulator.Emulator {
	e.T.Helper()
	opts.Product = emulator.ProductVB365
	em := e.Emulator(opts)
	em.AddUser(user, password)
	e.Vars[passwordEnv] = password
	p := e.UserProfile("m365", emulator.ProductVB365, user, passwordEnv)
	if set != nil {
		set(&p)
	}
	e.Profiles(p)
	return em
}

// Helper is what a Go program in the home would build: Vars exported into
// the test's environment (t.Setenv) and a Helper on the home's config.
func (e *Env) Helper() *helper.Helper {
	e.T.Helper()
	for k, v := range e.Vars {
		e.T.Setenv(k, v)
	}
	return LoadHelper(e.T, e.ConfigPath)
}

// LoadHelper is a Helper on the configuration file at path; t fails when
// the file does not load.
func LoadHelper(t testing.TB, path string) *helper.Helper {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return helper.New(cfg)
}

// Protected calls em's protected resource the way a tool would: GET with
// "Authorization: Bearer token" and, when apiVersion is not empty, the
// x-api-version header. It returns the HTTP status.
func Protected(t testing.TB, em *emulator.Emulator, token, apiVersion string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, em.URL()+em.ProtectedPath(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if apiVersion != "" {
		req.Header.Set("x-api-version", apiVersion)
	}
	resp, err := em.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// CallFor calls em's protected resource through hc (e.g. an oauth2 client)
// every 200 ms for d, failing the test at the first error or non-200 answer.
// It returns the number of calls.
func CallFor(t testing.TB, hc *http.Client, em *emulator.Emulator, d time.Duration) int {
	t.Helper()
	end := time.Now().Add(d)
	calls := 0
	for time.Now().Before(end) {
		resp, err := hc.Get(em.URL() + em.ProtectedPath())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("protected resource: HTTP %d after %d calls", resp.StatusCode, calls)
		}
		calls++
		time.Sleep(200 * time.Millisecond)
	}
	return calls
}

// NoSecrets reports an error (t.Errorf) for every secret, and, when em is
// not nil, every prefix of a token em issues (TokenPrefixes), that s holds;
// what names s in the message, which shows only a secret's first 12 bytes.
// Empty secrets are ignored. It reports whether s was clean.
func NoSecrets(t testing.TB, what, s string, em *emulator.Emulator, secrets ...string) bool {
	t.Helper()
	if em != nil {
		secrets = append(em.TokenPrefixes(), secrets...)
	}
	clean := true
	for _, p := range secrets {
		if p != "" && strings.Contains(s, p) {
			t.Errorf("%s holds a secret (%q…):\n%s", what, p[:min(len(p), 12)], s)
			clean = false
		}
	}
	return clean
}

// RecordingSource is an oauth2.TokenSource that remembers every access token
// its source handed out. Safe for concurrent use.
type RecordingSource struct {
	src  oauth2.TokenSource
	mu   sync.Mutex
	seen map[string]bool
}

// NewRecordingSource records the tokens of src.
func NewRecordingSource(src oauth2.TokenSource) *RecordingSource {
	return &RecordingSource{src: src, seen: map[string]bool{}}
}

// Token is src's token, remembered when there is one.
func (r *RecordingSource) Token() (*oauth2.Token, error) {
	t, err := r.src.Token()
	if err == nil {
		r.mu.Lock()
		r.seen[t.AccessToken] = true
		r.mu.Unlock()
	}
	return t, err
}

// Distinct is how many different access tokens were handed out so far.
func (r *RecordingSource) Distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// Buffer is a bytes.Buffer for concurrent writers (a Helper's stderr, a
// plugin host's log).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Take returns what was written and empties the buffer.
func (s *Buffer) Take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// Answer is get's JSON answer, or its error body.
type Answer struct {
	Profile     string    `json:"profile"`
	Product     string    `json:"product"`
	URL         string    `json:"url"`
	Username    string    `json:"username"`
	TokenType   string    `json:"token_type"`
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	Source      string    `json:"source"`
	Error       *struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		ExitCode int    `json:"exit_code"`
	} `json:"error"`
}

// Decode is r's stdout as get's JSON answer; anything else fails the test.
func Decode(t testing.TB, r Result) Answer {
	t.Helper()
	var a Answer
	if err := json.Unmarshal([]byte(r.Stdout), &a); err != nil {
		t.Fatalf("stdout is not a JSON answer: %v\nstdout=%q\nstderr=%q", err, r.Stdout, r.Stderr)
	}
	return a
}

// MustOK fails the test unless r exited 0.
func MustOK(t testing.TB, r Result) {
	t.Helper()
	if r.Exit != 0 {
		t.Fatalf("exit %d\nstdout=%s\nstderr=%s", r.Exit, r.Stdout, r.Stderr)
	}
}

// AtOnce runs f(0) … f(n-1) in n goroutines released together, the way
// concurrent callers arrive, and waits for all of them.
func AtOnce(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}
