package hit_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// The front (index) and the engine (config) pick the same profile, by name
// and by git host, on a 1,000-profile file.
func TestIndexAgreesWithTheEngine(t *testing.T) {
	cfg, ix := load(t, writeConfig(t, profilesText(1000)))
	for _, name := range []string{"", "p00000", "p00001", "p00999", "p00500", "nope"} {
		want, err := cfg.Profile(name)
		got, ok := ix.Profile(name)
		if (err == nil) != ok {
			t.Fatalf("Profile(%q): front %v, engine %v", name, ok, err)
		}
		if ok && (got.Name != want.Name || got.Product != want.Product || got.URL != want.URL || got.Username != want.Username ||
			got.Identity() != want.Identity() || got.CacheKey() != want.CacheKey() || got.RefreshBefore != want.RefreshBefore.Duration || got.Engine) {
			t.Fatalf("Profile(%q):\nfront  %+v\nengine %+v", name, *got, *want)
		}
	}
	for _, req := range []struct{ protocol, host, username, flag, env string }{
		{"https", "git7.example", "", "", ""}, {"http", "git7.example", "", "", ""}, {"https", "GIT7.example.:443", "", "", ""},
		{"https", "git999.example", "user999", "", ""}, {"https", "git999.example", "user998", "", ""},
		{"https", "git1000.example", "", "", ""}, {"https", "git7.example:8443", "", "", ""},
		{"https", "h-shared.example", "user42", "", ""}, {"https", "h-shared.example", "", "", "p00042"},
		{"https", "h-shared.example", "", "p00042", ""}, {"https", "h-shared.example", "user42", "p00042", ""},
		{"https", "git7.example", "", "p00007", "p00008"}, {"https", "git7.example", "", "", "p00008"},
		{"https", "h-shared.example", "", "", ""}, // default_profile among the matches
		{"http", "h-shared.example", "", "", ""}, {"https", "vb12.example:4443", "", "", ""}, {"https", "vb12.example", "", "", ""},
		{"https", "[::1]:443", "", "", ""},
	} {
		want, err := cfg.GitProfileFor(req.protocol, req.host, req.username, req.flag, req.env)
		got, ok := ix.GitProfileFor(req.protocol, req.host, req.username, req.flag, req.env)
		if !ok {
			t.Fatalf("%+v: the front leaves it to the engine (engine: %v, %v)", req, want, err)
		}
		if (got == nil) != (want == nil) || got != nil && got.Name != want.Name {
			t.Fatalf("%+v: front %+v, engine %+v (%v)", req, got, want, err)
		}
	}
	// What the engine reports as an error, the front leaves to it.
	for _, req := range []struct{ host, username, flag string }{
		{"git7.example", "", "p00008"}, {"h-shared.example", "user43", "p00042"}, {"git7.example", "", "nope"},
	} {
		if _, err := cfg.GitProfileFor("https", req.host, req.username, req.flag, ""); err == nil {
			t.Fatalf("%+v: no engine error", req)
		}
		if p, ok := ix.GitProfileFor("https", req.host, req.username, req.flag, ""); ok {
			t.Fatalf("%+v: the front answers %+v", req, p)
		}
	}
	// Several matches and no choice: the engine's message.
	_, ix = load(t, writeConfig(t, strings.Replace(profilesText(3), `default_profile = "p00000"`, "", 1)))
	if _, ok := ix.GitProfileFor("https", "h-shared.example", "", "", "p01000"); ok {
		t.Fatal("an ambiguous git host answered by the front")
	}
}

// hit.GitKey keys git's host as config.GitKeys keys git_hosts entries.
func TestGitKeyAgreesWithTheEngine(t *testing.T) {
	for _, host := range []string{"h", "H.Example", "h.example.", "h:8443", "h.example:443", "10.0.0.1", "10.0.0.1:80",
		"[::1]", "[::1]:8443", "[FE80::1]:443", "a-b_c.example"} {
		p := &config.Profile{Name: "a", URL: "https://other:4443", GitHosts: []string{host}, InsecurePlainHTTP: true}
		keys, err := p.GitKeys()
		if err != nil {
			t.Fatalf("%q: %v", host, err)
		}
		for _, scheme := range []string{"https", "http"} {
			k, ok := hit.GitKey(scheme, host)
			if !ok {
				t.Fatalf("GitKey(%q, %q) refused", scheme, host)
			}
			if !strings.Contains(strings.Join(keys, " ")+" ", k+" ") {
				t.Errorf("GitKey(%q, %q) = %q, engine keys %q", scheme, host, k, keys)
			}
		}
	}
	for _, host := range []string{"", "h:", "h:x", "h:1:2", "[::1", "[::1]x", "h/x", "h@x", "ü.example", "h:123456"} {
		if k, ok := hit.GitKey("https", host); ok {
			t.Errorf("GitKey(%q) = %q, want the engine to read it", host, k)
		}
	}
}

// Any change of the file makes its index stale: the next call is the
// engine's, which validates the whole file again.
func TestIndexStale(t *testing.T) {
	text := profilesText(3)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"same size rewrite", func(t *testing.T, path string) {
			write(t, path, strings.Replace(text, "user1\"", "user9\"", 1))
		}},
		{"chmod", func(t *testing.T, path string) { must(t, os.Chmod(path, 0o640)) }},
		{"times set back", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			must(t, err)
			write(t, path, strings.Replace(text, "user1\"", "user9\"", 1))
			must(t, os.Chtimes(path, fi.ModTime(), fi.ModTime()))
		}},
		{"replaced by rename", func(t *testing.T, path string) {
			write(t, path+".new", text)
			must(t, os.Rename(path+".new", path))
		}},
		{"removed", func(t *testing.T, path string) { must(t, os.Remove(path)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, text)
			load(t, path)
			tc.change(t, path)
			if ix, ok := hit.Open(path); ok {
				ix.Close()
				t.Fatal("the index of the old file is still used")
			}
		})
	}
}

// A file changed a moment ago gets a racy index: a second write within
// the same clock tick could keep its times, so its content is checked too.
func TestRacyIndex(t *testing.T) {
	path := writeConfig(t, profilesText(2))
	// "A moment ago" however slow the machine: an hour, until the last step.
	margin := hit.SetSettleMarginForTest(time.Hour)
	t.Cleanup(func() { hit.SetSettleMarginForTest(margin) })
	text := strings.Replace(profilesText(2), "user1\"", "user7\"", 1)
	write(t, path, text)
	if _, err := helper.LoadConfig(path); err != nil {
		t.Fatal(err)
	}
	ix, ok := hit.Open(path)
	if !ok || !ix.Racy() {
		t.Fatalf("index of a file written a moment ago: %v, racy %v", ok, ok && ix.Racy())
	}
	ix.Close()
	// Another write of the same size, its times set back to the first's.
	fi, err := os.Stat(path)
	must(t, err)
	write(t, path, strings.Replace(text, "user7\"", "user8\"", 1))
	must(t, os.Chtimes(path, fi.ModTime(), fi.ModTime()))
	if ix, ok := hit.Open(path); ok {
		ix.Close()
		t.Fatal("a racy index of other content is used")
	}
	// Once the file is settled, the engine writes a plain index.
	hit.SetSettleMarginForTest(margin)
	time.Sleep(60 * time.Millisecond)
	_, ix = load(t, path)
	if ix.Racy() {
		t.Fatal("still racy")
	}
	if p, ok := ix.Profile("p00001"); !ok || p.Username != "user8" {
		t.Fatalf("profile %+v %v", p, ok)
	}
}

// indexOf loads the configuration at path as the engine does and returns
// the index file it wrote, the only one in the user's index directory.
func indexOf(t *testing.T, path string) string {
	t.Helper()
	load(t, path)
	dir := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "veeam-credential-helper", "index")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("index dir: %v %v", entries, err)
	}
	return filepath.Join(dir, entries[0].Name())
}

// The index is trusted only in the user's own directories, from a file
// nobody else may write, not through a symbolic link.
func TestIndexTrust(t *testing.T) {
	path := writeConfig(t, profilesText(2))
	file := indexOf(t, path)
	dir := filepath.Dir(file)
	open := func() bool {
		ix, ok := hit.Open(path)
		if ok {
			ix.Close()
		}
		return ok
	}
	if !open() {
		t.Fatal("no index")
	}
	must(t, os.Chmod(file, 0o620))
	if open() {
		t.Error("a group-writable index is trusted")
	}
	must(t, os.Chmod(file, 0o600))
	must(t, os.Chmod(dir, 0o777))
	if open() {
		t.Error("an index in a world-writable directory is trusted")
	}
	must(t, os.Chmod(dir, 0o700))
	must(t, os.Rename(file, file+".real"))
	must(t, os.Symlink(file+".real", file))
	if open() {
		t.Error("an index through a symbolic link is trusted")
	}
	must(t, os.Remove(file))
	must(t, os.Rename(file+".real", file))
	if os.Geteuid() == 0 {
		must(t, os.Chown(file, 65534, 65534))
		if open() {
			t.Error("another user's index is trusted")
		}
		must(t, os.Chown(file, 0, 0))
	}
	// An index an older engine wrote (another version): not trusted.
	b, err := os.ReadFile(file)
	must(t, err)
	write(t, file, strings.Replace(string(b), "index 3\n", "index 2\n", 1))
	if open() {
		t.Error("an index of another version is trusted")
	}
	// A torn or garbled index: a miss, never a wrong answer.
	for _, n := range []int{0, 10, len(b) / 2, len(b) - 1} {
		write(t, file, string(b[:n]))
		if ix, ok := hit.Open(path); ok {
			if p, ok := ix.Profile("p00001"); ok && p.Username != "user1" {
				t.Errorf("a torn index (%d bytes) answers %+v", n, p)
			}
			ix.Close()
		}
	}
}

// Validation stays whole: a mistake in a profile that is not the one
// asked for is still an error naming the file, the key and its line, on
// the first call after the change.
func TestStrictnessOfAnotherProfile(t *testing.T) {
	good := profilesText(1000)
	at := strings.Index(good, "[profiles.p00700]")
	line := strings.Count(good[:at], "\n") + 3 // url's line
	for _, tc := range []struct{ name, edit, want string }{
		{"unknown key", `url = "https://vb700.example:4443"` + "\nurll = \"x\"", fmt.Sprintf(`line %d: unknown configuration key "profiles.p00700.urll"`, line+1)},
		{"wrong type", `url = 7`, fmt.Sprintf("line %d", line)},
		{"literal password", `url = "https://vb700.example:4443"` + "\npassword = \"hunter2\"", `profile "p00700": a literal password`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, good)
			load(t, path)
			bad := strings.Replace(good, `url = "https://vb700.example:4443"`, tc.edit, 1)
			write(t, path, bad)
			if ix, ok := hit.Open(path); ok {
				ix.Close()
				t.Fatal("the front still answers from the index of the good file")
			}
			_, err := helper.LoadConfig(path)
			if err == nil || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the password in the error: %v", err)
			}
		})
	}
}

// The fast JSON readers answer as the engine's encoding/json readers do
// wherever they answer at all.
func TestJSONAgreesWithTheEngine(t *testing.T) {
	exp := time.Date(2026, 11, 23, 8, 0, 0, 123, time.UTC)
	enc, err := cache.EncodeEntry(cache.Entry{AccessToken: "vb-at.x_y-z", RefreshToken: "r<&>", TokenType: "Bearer", ExpiresAt: exp,
		Cookies: "a=b; c=\"d\"", IssuedAt: exp.Add(-time.Hour)})
	must(t, err)
	for _, b := range []string{string(enc), `{"v":1}`, `{"v":1,"access_token":"a","expires_at":"2026-11-23T08:00:00+02:00"}`,
		` {"x":[1,{"y":[]}],"v":1,"access_token":"a"} `} {
		want, err := cache.DecodeEntry([]byte(b))
		must(t, err)
		got, ok := hit.DecodeEntryForTest([]byte(b))
		if !ok || got.AccessToken != want.AccessToken || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("%s: front %+v %v, engine %+v", b, got, ok, want)
		}
	}
	for _, b := range []string{`{"v":2}`, `{"v":1,"v":1}`, `{"V":1}`, `{"v":1.0}`, `{"v":01}`, `{"v":1,"access_token":"a\u0062"}`, `{"v":1}x`, `[]`, `null`} {
		if e, ok := hit.DecodeEntryForTest([]byte(b)); ok {
			t.Errorf("%s: front answers %+v", b, e)
		}
	}
	for _, env := range []string{"", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1"}`,
		`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true,"cluster":{"server":"https://k","config":{"a":[1,-2,null,{}]}}}}`} {
		want, err := protocol.ParseExecInfo(env)
		must(t, err)
		if got := hit.ExecAPIVersion(env); got != want.APIVersion {
			t.Errorf("%s: front %q, engine %q", env, got, want.APIVersion)
		}
	}
	for _, env := range []string{" ", "null", `{"kind":"Pod","apiVersion":"client.authentication.k8s.io/v1"}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`, `{"KIND":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}`} {
		if got := hit.ExecAPIVersion(env); got != "" {
			t.Errorf("%s: front answers %q", env, got)
		}
	}
	hdr := `{"alg":"PBES2-HS256+A128KW","created":"2026-11-23 08:00:00 +0000 UTC","enc":"A256GCM","p2c":8192,"p2s":"c2FsdA"}`
	var want cache.JWEHeader
	must(t, json.Unmarshal([]byte(hdr), &want))
	if got, ok := hit.ItemJSONForTest.Header([]byte(hdr)); !ok || got.Alg != want.Alg || got.Enc != want.Enc || *got.P2C != *want.P2C || got.P2S != want.P2S {
		t.Errorf("header: front %+v %v, engine %+v", got, ok, want)
	}
	item := `{"Key":"k","Data":"` + base64.StdEncoding.EncodeToString([]byte(`{"v":1}`)) + `","Label":"","Description":"","KeychainNotTrustApplication":false,"KeychainNotSynchronizable":false}`
	if key, data, ok := hit.ItemJSONForTest.Item([]byte(item)); !ok || key != "k" || string(data) != `{"v":1}` {
		t.Errorf("item: %q %q %v", key, data, ok)
	}
}

// FuzzDecodeEntry: whatever the fast entry reader accepts, the engine's
// reader accepts with the same token and expiry.
func FuzzDecodeEntry(f *testing.F) {
	for _, s := range []string{`{"v":1,"access_token":"a","expires_at":"2026-11-23T08:00:00Z"}`, `{"v":1}`, `{"v":1,"x":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := hit.DecodeEntryForTest(b)
		if !ok {
			return
		}
		want, err := cache.DecodeEntry(b)
		if err != nil || got.AccessToken != want.AccessToken || !got.ExpiresAt.Equal(want.ExpiresAt) || !got.IssuedAt.Equal(want.IssuedAt) {
			t.Fatalf("%q: front %+v, engine %+v %v", b, got, want, err)
		}
	})
}

// BenchmarkConfig is the configuration step of a hit: the front's index
// (open, stamp check, profile lookup) against the engine's full read.
func BenchmarkConfig(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		path := writeConfig(b, profilesText(n))
		load(b, path)
		name := fmt.Sprintf("p%05d", n/2)
		b.Run(fmt.Sprintf("front/profiles=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ix, ok := hit.Open(path)
				if !ok {
					b.Fatal("no index")
				}
				if _, ok := ix.Profile(name); !ok {
					b.Fatal("no profile")
				}
				ix.Close()
			}
		})
		b.Run(fmt.Sprintf("engine/profiles=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := config.Load(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(text), 0o600))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
