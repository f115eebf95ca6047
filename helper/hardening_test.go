package helper_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv/syncbuf"
)

// hostileServer is a VB365 token endpoint under the test's control: each
// token call is answered by the function set with answer (status and JSON
// body), and the forms it received are kept.
type hostileServer struct {
	srv    *httptest.Server
	caFile string

	mu     sync.Mutex
	answer func(form map[string]string) (int, any)
	forms  []map[string]string
}

func newHostileServer(t *testing.T) *hostileServer {
	t.Helper()
	hs := &hostileServer{}
	hs.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(400)
			return
		}
		form := map[string]string{}
		for k := range r.PostForm {
			form[k] = r.PostForm.Get(k)
		}
		hs.mu.Lock()
		hs.forms = append(hs.forms, form)
		answer := hs.answer
		hs.mu.Unlock()
		status, body := 500, any(map[string]string{"message": "no answer set"})
		if answer != nil {
			status, body = answer(form)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(hs.srv.Close)
	hs.caFile = filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.srv.Certificate().Raw})
	if err := os.WriteFile(hs.caFile, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return hs
}

func (hs *hostileServer) set(answer func(form map[string]string) (int, any)) {
	hs.mu.Lock()
	hs.answer = answer
	hs.mu.Unlock()
}

func (hs *hostileServer) calls() []map[string]string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]map[string]string(nil), hs.forms...)
}

// hostileHome writes a configuration with one vb365 profile "h" on hs
// (password from $HOSTILE_PASSWORD, then the lines of extra) and a file
// cache, and returns a Helper on it whose stderr is kept in warnings.
func hostileHome(t *testing.T, hs *hostileServer, extra string) (*helper.Helper, *syncbuf.Buffer, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf("[profiles.h]\nproduct = \"vb365\"\nurl = %q\nusername = \"u\"\npassword_env = \"HOSTILE_PASSWORD\"\nca_file = %q\n%s\n\n[cache]\nbackend = \"file\"\ndir = %q\n",
		hs.srv.URL, hs.caFile, extra, filepath.Join(dir, "cache"))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOSTILE_PASSWORD", "pw-Hostile-0001")
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "passphrase-hostile")
	h := testenv.LoadHelper(t, path)
	warnings := &syncbuf.Buffer{}
	h.Stderr = warnings
	return h, warnings, dir
}

// tokenBody is a good VB365 token answer.
func tokenBody(access, refresh string, expiresIn int) map[string]any {
	return map[string]any{"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": expiresIn}
}

// checkPrintable fails when s holds a control character (C0, DEL, C1) or
// a bidirectional override: what a terminal would act on.
func checkPrintable(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u202e' || r == '\u2066' {
			t.Fatalf("%s holds control character %U: %q", what, r, s)
		}
	}
}

// A server's error text reaches the user without terminal controls, and
// without any secret the call sent, even when the server echoes them.
func TestServerTextSanitized(t *testing.T) {
	hs := newHostileServer(t)
	h, _, _ := hostileHome(t, hs, "")
	const hostile = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u009d52;c;Zm9v\x07 user \u202eevil\u202c"
	hs.set(func(form map[string]string) (int, any) {
		return 401, map[string]string{
			"message":    hostile + " password " + form["password"] + " is wrong",
			"errorCode":  "Access\x1b[5mDenied\x7f",
			"stackTrace": "at X",
		}
	})
	_, err := h.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Rejected {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
	msg := err.Error()
	checkPrintable(t, "error", msg)
	if strings.Contains(msg, "pw-Hostile-0001") || !strings.Contains(msg, "[redacted]") {
		t.Fatalf("password not redacted: %q", msg)
	}
	for _, want := range []string{`\x1b]0;pwned\x07`, `\u009b31m`, `\u202eevil`, `Access\x1b[5mDenied\x7f`} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks the escaped %q", msg, want)
		}
	}
	if strings.Contains(msg, "at X") {
		t.Errorf("stack trace quoted: %q", msg)
	}
}

// The refresh token, the MFA code and the API key are redacted too: here
// the refresh token a server echoes when it rejects it.
func TestServerTextRedactsRefreshToken(t *testing.T) {
	hs := newHostileServer(t)
	h, _, _ := hostileHome(t, hs, "")
	hs.set(func(form map[string]string) (int, any) {
		return 200, tokenBody("at-1", "rt-Secret-1", 3600)
	})
	if _, err := h.Get(context.Background(), helper.Request{Profile: "h"}); err != nil {
		t.Fatal(err)
	}
	hs.set(func(form map[string]string) (int, any) {
		if form["grant_type"] == "refresh_token" {
			return 500, map[string]string{"message": "cannot refresh " + form["refresh_token"]}
		}
		return 500, map[string]string{"message": "cannot log in " + form["password"]}
	})
	_, err := h.Get(context.Background(), helper.Request{Profile: "h", ForceRefresh: true})
	if err == nil || strings.Contains(err.Error(), "rt-Secret-1") || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("refresh error: %v", err)
	}
}

// A ca_file or password_file another user could change or read is refused
// before it is used (exit 2, naming the file and the fix).
func TestUntrustedFilesRefused(t *testing.T) {
	hs := newHostileServer(t)
	hs.set(func(map[string]string) (int, any) { return 200, tokenBody("at-1", "rt-1", 3600) })

	h, _, _ := hostileHome(t, hs, "")
	if err := os.Chmod(hs.caFile, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := h.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "ca_file "+hs.caFile+" is writable by group or others") ||
		!strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("world-writable ca_file: exit %d: %v", exitcode.Of(err), err)
	}
	if err := os.Chmod(hs.caFile, 0o644); err != nil {
		t.Fatal(err)
	}

	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte("pw-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pwFile, 0o644); err != nil {
		t.Fatal(err)
	}
	h, _, _ = hostileHome(t, hs, fmt.Sprintf("password_file = %q", pwFile))
	t.Setenv("HOSTILE_PASSWORD", "") // password_env unset: the file is next
	_, err = h.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "password_file "+pwFile+" is readable by group or others") ||
		!strings.Contains(err.Error(), "chmod 600 "+pwFile) {
		t.Fatalf("world-readable password_file: exit %d: %v", exitcode.Of(err), err)
	}
	if n := len(hs.calls()); n != 0 {
		t.Fatalf("%d calls to the server with a refused file", n)
	}
	if err := os.Chmod(pwFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(context.Background(), helper.Request{Profile: "h"}); err != nil {
		t.Fatal(err)
	}
	if got := hs.calls()[0]["password"]; got != "pw-from-file" {
		t.Fatalf("password sent %q", got)
	}
}

// alive reports whether the process whose pid is in file still runs.
func alive(t *testing.T, file string) bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatal(err)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// waitGone waits until the process in file has ended (killed processes of
// another group are reaped by init; give it a moment).
func waitGone(t *testing.T, file string) {
	t.Helper()
	for i := 0; i < 500 && alive(t, file); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(t, file) {
		t.Fatalf("process of %s still runs", file)
	}
}

// A password_command that hangs (and leaves a child holding its stdout)
// is killed with its process group when the profile's timeout passes:
// exit 4 (a timeout) with one line, no hang.
func TestSecretCommandTimeoutKillsGroup(t *testing.T) {
	requireUnix(t)
	hs := newHostileServer(t)
	dir := t.TempDir()
	child, parent := filepath.Join(dir, "child.pid"), filepath.Join(dir, "parent.pid")
	script := fmt.Sprintf("echo $$ > %s; sleep 300 & echo $! > %s; wait", parent, child)
	h, _, _ := hostileHome(t, hs, fmt.Sprintf("timeout = \"1s\"\npassword_command = [\"sh\", \"-c\", %q]", script))
	t.Setenv("HOSTILE_PASSWORD", "")
	_, err := h.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "password_command (sh) did not finish within timeout 1s and was killed") {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
	waitGone(t, parent)
	waitGone(t, child)
	if n := len(hs.calls()); n != 0 {
		t.Fatalf("%d server calls", n)
	}
}

// The commands the helper runs get an environment without any configured
// secret variable (every profile's *_env) and without the cache passphrase.
func TestSecretCommandEnvironment(t *testing.T) {
	requireUnix(t)
	hs := newHostileServer(t)
	hs.set(func(map[string]string) (int, any) { return 200, tokenBody("at-1", "rt-1", 3600) })
	envFile := filepath.Join(t.TempDir(), "env")
	h, _, _ := hostileHome(t, hs, fmt.Sprintf(`password_command = ["sh", "-c", "env > %s; echo pw-from-command"]

[profiles.other]
product = "vbr"
url = "https://vbr.example.com"
username = "o"
password_env = "OTHER_SECRET"
`, envFile))
	t.Setenv("HOSTILE_PASSWORD", "")
	t.Setenv("OTHER_SECRET", "other-secret-value")
	t.Setenv("HARMLESS_VARIABLE", "kept")
	if _, err := h.Get(context.Background(), helper.Request{Profile: "h"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := string(b)
	for _, leak := range []string{"other-secret-value", "passphrase-hostile", "OTHER_SECRET=", "VEEAM_CREDENTIAL_HELPER_PASSPHRASE="} {
		if strings.Contains(env, leak) {
			t.Errorf("the command's environment holds %q", leak)
		}
	}
	if !strings.Contains(env, "HARMLESS_VARIABLE=kept") {
		t.Error("the command lost an ordinary variable")
	}
	if got := hs.calls()[0]["password"]; got != "pw-from-command" {
		t.Fatalf("password sent %q", got)
	}
}

// observingLocker records, at each Lock, whether a marker file exists.
type observingLocker struct {
	cache.Locker
	marker string
	seen   []bool
}

func (l *observingLocker) Lock(ctx context.Context, key string) (func(), error) {
	_, err := os.Stat(l.marker)
	l.seen = append(l.seen, err == nil)
	return l.Locker.Lock(ctx, key)
}

// cache.passphrase_command runs before the identity's lock is taken (a
// pinentry waiting for its user must not hold up other callers), without
// the configured secret variables, and is killed when it hangs.
func TestPassphraseCommand(t *testing.T) {
	requireUnix(t)
	hs := newHostileServer(t)
	hs.set(func(map[string]string) (int, any) { return 200, tokenBody("at-1", "rt-1", 3600) })
	dir := t.TempDir()
	marker, envFile := filepath.Join(dir, "ran"), filepath.Join(dir, "env")
	h, _, home := hostileHome(t, hs, "timeout = \"1s\"")
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "")
	h.Config.Cache.PassphraseCommand = []string{"sh", "-c", fmt.Sprintf("touch %s; env > %s; echo the-passphrase", marker, envFile)}
	lk := &observingLocker{Locker: cache.NewFileLocker(filepath.Join(home, "cache")), marker: marker}
	h.Locker = lk
	if _, err := h.Get(context.Background(), helper.Request{Profile: "h"}); err != nil {
		t.Fatal(err)
	}
	if len(lk.seen) == 0 || !lk.seen[0] {
		t.Fatalf("lock taken before passphrase_command ran: %v", lk.seen)
	}
	b, _ := os.ReadFile(envFile)
	if strings.Contains(string(b), "pw-Hostile-0001") || strings.Contains(string(b), "HOSTILE_PASSWORD=") {
		t.Fatal("passphrase_command got the password variable")
	}

	// A hanging one: killed, exit 4, one line.
	h2, _, _ := hostileHome(t, hs, "timeout = \"1s\"")
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "")
	pid := filepath.Join(dir, "pp.pid")
	h2.Config.Cache.PassphraseCommand = []string{"sh", "-c", fmt.Sprintf("sleep 300 & echo $! > %s; wait", pid)}
	_, err := h2.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "passphrase_command \"sh\" was killed after 1s: did not finish in time") {
		t.Fatalf("hanging passphrase_command: exit %d: %v", exitcode.Of(err), err)
	}
	waitGone(t, pid)
}

func requireUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups and sh: Unix")
	}
}

// failingStore is the real file store whose writes (and, with
// failRemove, removals) fail as on a full disk: Set fails from the
// failFrom-th call on (1 = every Set).
type failingStore struct {
	cache.Store
	mu         sync.Mutex
	sets       int
	failFrom   int
	failRemove bool
}

var errDiskFull = &cache.UnavailableError{Msg: "cannot write the token cache", Err: syscall.ENOSPC}

func (f *failingStore) Set(key string, data []byte) error {
	f.mu.Lock()
	f.sets++
	fail := f.failFrom > 0 && f.sets >= f.failFrom
	f.mu.Unlock()
	if fail {
		return errDiskFull
	}
	return f.Store.Set(key, data)
}

func (f *failingStore) Remove(key string) error {
	if f.failRemove {
		return &cache.UnavailableError{Msg: "cannot remove the token cache item", Err: syscall.EIO}
	}
	return f.Store.Remove(key)
}

func (f *failingStore) Unlock() error { return f.Store.(cache.Unlocker).Unlock() }

// storeHome is a testenv home with the vb365 emulator (single-use refresh
// tokens, replays counted) and a Helper whose store fails as asked.
func storeHome(t *testing.T) (*emulator.Emulator, func(fs *failingStore) (*helper.Helper, *syncbuf.Buffer)) {
	t.Helper()
	e := testenv.New(t)
	em := e.M365Profile(emulator.Options{}, tsUser, tsPassword, "VB365_LIBRARY_PASSWORD", nil)
	return em, func(fs *failingStore) (*helper.Helper, *syncbuf.Buffer) {
		h := e.Helper()
		warnings := &syncbuf.Buffer{}
		h.Stderr = warnings
		st, lk, err := h.OpenCache()
		if err != nil {
			t.Fatal(err)
		}
		if fs != nil {
			fs.Store = st
			h = e.Helper()
			h.Stderr = warnings
			h.Store, h.Locker = fs, lk
		}
		return h, warnings
	}
}

// cachedStoreHome is storeHome once a first get has cached m365's tokens.
func cachedStoreHome(t *testing.T) (*emulator.Emulator, func(fs *failingStore) (*helper.Helper, *syncbuf.Buffer)) {
	t.Helper()
	em, newHelper := storeHome(t)
	h, _ := newHelper(nil)
	if _, err := h.Get(context.Background(), helper.Request{Profile: "m365"}); err != nil {
		t.Fatal(err)
	}
	return em, newHelper
}

// A refresh whose new entry cannot be stored answers the fresh token with
// one warning naming the cause (exit 0), and the next call never replays
// the spent refresh token: it logs in instead.
func TestRefreshResultNotStorable(t *testing.T) {
	em, newHelper := cachedStoreHome(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		store *failingStore
	}{
		{"every write fails", &failingStore{failFrom: 1}},
		{"the last write fails (a crash before the rename)", &failingStore{failFrom: 2, failRemove: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := em.Counts()
			h, warnings := newHelper(tc.store)
			res, err := h.Get(ctx, helper.Request{Profile: "m365", ForceRefresh: true})
			if err != nil {
				t.Fatalf("refresh with a failing store: %v", err)
			}
			if res.Source != helper.SourceRefresh || !em.Valid(res.AccessToken) {
				t.Fatalf("answer: source %s, valid %v", res.Source, em.Valid(res.AccessToken))
			}
			w := warnings.String()
			if strings.Count(w, "\n") != 1 || !strings.Contains(w, "the new token could not be stored") || !strings.Contains(w, "no space left on device") {
				t.Fatalf("warning: %q", w)
			}
			// The next process, with a working store.
			h, _ = newHelper(nil)
			if _, err := h.Get(ctx, helper.Request{Profile: "m365", ForceRefresh: true}); err != nil {
				t.Fatal(err)
			}
			after := em.Counts()
			if after.RefreshReuse != 0 || after.Grants["password"] != before.Grants["password"]+1 {
				t.Fatalf("after a lost write: %d refresh replays, %d password grants (want 0, %d)",
					after.RefreshReuse, after.Grants["password"], before.Grants["password"]+1)
			}
		})
	}
}

// When the entry can be neither written nor removed, the refresh token is
// not sent at all (exit 6): sending it would leave it behind for a replay.
func TestRefreshNotSentWhenEntryStuck(t *testing.T) {
	em, newHelper := cachedStoreHome(t)
	ctx := context.Background()
	h, _ := newHelper(&failingStore{failFrom: 1, failRemove: true})
	_, err := h.Get(ctx, helper.Request{Profile: "m365", ForceRefresh: true})
	if exitcode.Of(err) != exitcode.Cache {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
	if c := em.Counts(); c.Grants["refresh_token"] != 0 || c.RefreshReuse != 0 {
		t.Fatalf("refresh grants %d, replays %d", c.Grants["refresh_token"], c.RefreshReuse)
	}
}

// A token from a grant that cannot be stored is answered (exit 0, one
// warning), not thrown away with exit 6.
func TestGrantResultNotStorable(t *testing.T) {
	em, newHelper := storeHome(t)
	h, warnings := newHelper(&failingStore{failFrom: 1})
	res, err := h.Get(context.Background(), helper.Request{Profile: "m365"})
	if err != nil || !em.Valid(res.AccessToken) || res.Source != helper.SourceGrant {
		t.Fatalf("grant with a failing store: %v", err)
	}
	if w := warnings.String(); strings.Count(w, "\n") != 1 || !strings.Contains(w, "no space left on device") {
		t.Fatalf("warning: %q", w)
	}
}

// A token that would not survive every output format is refused before
// it is cached (exit 4), and the next call asks the server again.
func TestUnusableTokenNotCached(t *testing.T) {
	for _, bad := range []string{"tok\x1b[31m", "two words", "line\nbreak", "tab\t", "ünï", "del\x7f"} {
		hs := newHostileServer(t)
		h, _, _ := hostileHome(t, hs, "")
		hs.set(func(map[string]string) (int, any) { return 200, tokenBody(bad, "rt-1", 3600) })
		_, err := h.Get(context.Background(), helper.Request{Profile: "h"})
		if exitcode.Of(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "server answered an unusable token") {
			t.Fatalf("%q: exit %d: %v", bad, exitcode.Of(err), err)
		}
		hs.set(func(map[string]string) (int, any) { return 200, tokenBody("good-token", "rt-2", 3600) })
		res, err := h.Get(context.Background(), helper.Request{Profile: "h"})
		if err != nil || res.AccessToken != "good-token" || len(hs.calls()) != 2 {
			t.Fatalf("%q: next call: %v, %d server calls", bad, err, len(hs.calls()))
		}
	}
}

// A token shorter-lived than refresh_before or --min-valid is answered
// with one warning naming the lifetime, and is not renewed on every call:
// only when half its lifetime is gone.
func TestShortLivedTokenNoRefreshStorm(t *testing.T) {
	for _, tc := range []struct {
		name     string
		extra    string
		minValid time.Duration
		life     int
		what     string
	}{
		{"refresh_before longer than the lifetime", `refresh_before = "10m"`, 0, 300, "refresh_before 10m0s"},
		{"--min-valid longer than the lifetime", "", 2 * time.Hour, 3600, "--min-valid 2h0m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHostileServer(t)
			h, warnings, _ := hostileHome(t, hs, tc.extra)
			n := 0
			hs.set(func(form map[string]string) (int, any) {
				n++
				return 200, tokenBody(fmt.Sprintf("at-%d", n), fmt.Sprintf("rt-%d", n), tc.life)
			})
			now := time.Now()
			h.Now = func() time.Time { return now }
			req := helper.Request{Profile: "h", MinValid: tc.minValid}
			res, err := h.Get(context.Background(), req)
			if err != nil || res.AccessToken != "at-1" {
				t.Fatal(err)
			}
			w := warnings.String()
			if strings.Count(w, "\n") != 1 || !strings.Contains(w, fmt.Sprintf("valid for %s", time.Duration(tc.life)*time.Second)) || !strings.Contains(w, tc.what) {
				t.Fatalf("warning: %q", w)
			}
			for i := 0; i < 5; i++ {
				now = now.Add(time.Duration(tc.life) * time.Second / 20)
				res, err := h.Get(context.Background(), req)
				if err != nil || res.Source != helper.SourceCache {
					t.Fatalf("call %d: source %v, err %v", i, res, err)
				}
			}
			if c := len(hs.calls()); c != 1 {
				t.Fatalf("%d server calls while the token was fresh", c)
			}
			if strings.Count(warnings.String(), "\n") != 1 {
				t.Fatalf("warned again on a hit: %q", warnings.String())
			}
			now = now.Add(time.Duration(tc.life) * time.Second / 2)
			res, err = h.Get(context.Background(), req)
			if err != nil || res.Source != helper.SourceRefresh || len(hs.calls()) != 2 {
				t.Fatalf("past half its lifetime: %v, %v, %d calls", res, err, len(hs.calls()))
			}
		})
	}
}

// A freshly issued token that has already expired is an error (exit 4),
// not an answer.
func TestExpiredFreshToken(t *testing.T) {
	hs := newHostileServer(t)
	h, _, _ := hostileHome(t, hs, "")
	hs.set(func(map[string]string) (int, any) {
		return 200, map[string]any{"access_token": "at-old", "refresh_token": "rt", "token_type": "bearer", ".expires": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
	})
	_, err := h.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "already expired") {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
}

// A passphrase the cache was not written with is refused before anything
// is written or sent (exit 6, naming the next step); logout works without
// the passphrase, and `logout --all`'s reset makes the cache usable again.
func TestPassphraseMismatch(t *testing.T) {
	hs := newHostileServer(t)
	n := 0
	hs.set(func(map[string]string) (int, any) {
		n++
		return 200, tokenBody(fmt.Sprintf("at-%d", n), fmt.Sprintf("rt-%d", n), 3600)
	})
	h, _, home := hostileHome(t, hs, "\n[profiles.other]\nproduct = \"vb365\"\nurl = \""+hs.srv.URL+"\"\nusername = \"o\"\npassword_env = \"HOSTILE_PASSWORD\"\nca_file = \""+hs.caFile+"\"\n")
	ctx := context.Background()
	if _, err := h.Get(ctx, helper.Request{Profile: "h"}); err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(home, "cache", "tokens")
	listing := func() string {
		entries, _ := os.ReadDir(tokens)
		var names []string
		for _, e := range entries {
			fi, _ := e.Info()
			names = append(names, fmt.Sprintf("%s %d %s", e.Name(), fi.Size(), fi.ModTime()))
		}
		return strings.Join(names, "\n")
	}
	before := listing()

	// A mistyped passphrase, for a profile with nothing cached yet (it
	// would have claimed the cache) and for one with an entry.
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "mistyped")
	for _, profile := range []string{"other", "h"} {
		h2 := helper.New(h.Config)
		h2.Stderr = io.Discard
		_, err := h2.Get(ctx, helper.Request{Profile: profile})
		if exitcode.Of(err) != exitcode.Cache || !strings.Contains(err.Error(), "wrong passphrase") ||
			!strings.Contains(err.Error(), "logout --all") || strings.Contains(err.Error(), "mistyped") {
			t.Fatalf("profile %s, wrong passphrase: exit %d: %v", profile, exitcode.Of(err), err)
		}
	}
	if after := listing(); after != before || len(hs.calls()) != 1 {
		t.Fatalf("a wrong passphrase wrote to the cache or called the server:\n%s\n---\n%s", before, after)
	}

	// logout of one profile without any passphrase: the entry goes.
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "")
	h3 := helper.New(h.Config)
	h3.Stderr = io.Discard
	if err := h3.Logout(ctx, "h", false); err != nil {
		t.Fatalf("logout without a passphrase: %v", err)
	}
	// The reset with the mistyped passphrase clears what it cannot open;
	// afterwards that passphrase owns the cache.
	t.Setenv("VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "mistyped")
	h4 := helper.New(h.Config)
	h4.Stderr = io.Discard
	for _, p := range h4.Config.ProfileNames() {
		if err := h4.Logout(ctx, p, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h4.ClearUndecryptable(); err != nil {
		t.Fatal(err)
	}
	if _, err := h4.Get(ctx, helper.Request{Profile: "h"}); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

// The fleet's etcd files are trusted as a profile's are: a ca_file or
// cert_file another user can change (they would add a CA and read the
// etcd password and the fleet's items in transit), or a key_file others
// can read, is refused with exit 2 before anything is dialled.
func TestFleetFilesTrusted(t *testing.T) {
	hs := newHostileServer(t)
	dir := t.TempDir()
	ca, err := os.ReadFile(hs.caFile)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, name := range []string{"ca_file", "cert_file", "key_file"} {
		files[name] = filepath.Join(dir, name+".pem")
		if err := os.WriteFile(files[name], ca, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	etcd := fmt.Sprintf("endpoints = [\"https://127.0.0.1:1\"]\nca_file = %q\ncert_file = %q\nkey_file = %q\n",
		files["ca_file"], files["cert_file"], files["key_file"])
	for _, c := range []struct {
		name string
		mode os.FileMode
		want string
	}{
		{"ca_file", 0o664, "is writable by group or others"},
		{"cert_file", 0o646, "is writable by group or others"},
		{"key_file", 0o640, "is readable by group or others"},
	} {
		h := fleetHome(t, hs, etcd)
		if err := os.Chmod(files[c.name], c.mode); err != nil {
			t.Fatal(err)
		}
		_, err = h.Get(context.Background(), helper.Request{Profile: "h"})
		if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "cache.etcd."+c.name+" "+files[c.name]+" "+c.want) {
			t.Errorf("%s mode %04o: exit %d: %v", c.name, c.mode, exitcode.Of(err), err)
		}
		if err := os.Chmod(files[c.name], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(hs.calls()); n != 0 {
		t.Fatalf("%d calls to the server with a refused file", n)
	}
}

// fleetHome is hostileHome with the fleet backend: etcd is the [cache.etcd]
// table's text.
func fleetHome(t *testing.T, hs *hostileServer, etcd string) *helper.Helper {
	t.Helper()
	h, _, _ := hostileHome(t, hs, "")
	path := h.Config.Path
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text = []byte(strings.Replace(string(text), `backend = "file"`, `backend = "etcd"`, 1) + "\n[cache.etcd]\n" + etcd)
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := helper.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	h = helper.New(cfg)
	h.Stderr = io.Discard
	return h
}

// The etcd user's password is read as a profile's: a password_file others
// can read is refused (exit 2), and a password_command gets no secret
// variable and is killed with its process group when it hangs.
func TestFleetPasswordSources(t *testing.T) {
	requireUnix(t)
	hs := newHostileServer(t)
	hs.set(func(map[string]string) (int, any) { return 200, tokenBody("at-1", "rt-1", 3600) })
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "etcd-password")
	if err := os.WriteFile(pwFile, []byte("etcd-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pwFile, 0o604); err != nil {
		t.Fatal(err)
	}
	h := fleetHome(t, hs, fmt.Sprintf("endpoints = [\"http://127.0.0.1:1\"]\ndial_timeout = \"300ms\"\nusername = \"fleet\"\npassword_file = %q\n", pwFile))
	_, err := h.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "cache.etcd.password_file "+pwFile+" is readable by group or others") ||
		!strings.Contains(err.Error(), "chmod 600 "+pwFile) {
		t.Errorf("world-readable cache.etcd.password_file: exit %d: %v", exitcode.Of(err), err)
	}

	envFile := filepath.Join(dir, "env")
	h = fleetHome(t, hs, fmt.Sprintf("endpoints = [\"http://127.0.0.1:1\"]\ndial_timeout = \"300ms\"\nusername = \"fleet\"\npassword_command = [\"sh\", \"-c\", \"env > %s; echo etcd-pw\"]\n", envFile))
	h.Get(context.Background(), helper.Request{Profile: "h"}) // etcd is not there: only the command matters
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"pw-Hostile-0001", "passphrase-hostile", "HOSTILE_PASSWORD=", "VEEAM_CREDENTIAL_HELPER_PASSPHRASE="} {
		if strings.Contains(string(b), leak) {
			t.Errorf("cache.etcd.password_command's environment holds %q", leak)
		}
	}

	if testing.Short() {
		return
	}
	child, parent := filepath.Join(dir, "child.pid"), filepath.Join(dir, "parent.pid")
	script := fmt.Sprintf("echo $$ > %s; sleep 300 & echo $! > %s; wait", parent, child)
	h = fleetHome(t, hs, fmt.Sprintf("endpoints = [\"http://127.0.0.1:1\"]\ndial_timeout = \"300ms\"\nusername = \"fleet\"\npassword_command = [\"sh\", \"-c\", %q]\n", script))
	calls := len(hs.calls())
	_, err = h.Get(context.Background(), helper.Request{Profile: "h"})
	if exitcode.Of(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "password_command (sh) did not finish within timeout") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("hanging cache.etcd.password_command: exit %d: %v", exitcode.Of(err), err)
	}
	waitGone(t, parent)
	waitGone(t, child)
	if n := len(hs.calls()) - calls; n != 0 {
		t.Fatalf("%d server calls after a hanging cache.etcd.password_command", n)
	}
}
