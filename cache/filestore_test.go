package cache

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const testPassEnv = "VCH_TEST_CACHE_PASSPHRASE"

func openTestFile(t testing.TB, dir, pass string) Store {
	t.Helper()
	if pass != "" {
		t.Setenv(testPassEnv, pass)
	} else {
		t.Setenv(testPassEnv, "")
	}
	st, err := Open(Config{Backend: "file", Dir: dir, PassphraseEnv: testPassEnv})
	if err != nil {
		t.Fatal(err)
	}
	if st.Backend() != "file" {
		t.Fatalf("Backend() = %q", st.Backend())
	}
	return st
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFileSetGetRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "vch")
	st := openTestFile(t, dir, "correct horse")
	k1, k2 := Key("vb365", "u1", "", "", "", ""), Key("vb365", "u2", "", "", "", "")

	if _, err := st.Get(k1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	secret := []byte(`{"v":1,"access_token":"eyJhbGciOi-PLAINTEXT-TOKEN-4711"}`)
	if err := st.Set(k1, secret); err != nil {
		t.Fatal(err)
	}
	if err := st.Set(k2, []byte("other")); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(k1)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Get = %q, %v", got, err)
	}

	item := filepath.Join(dir, "tokens", k1)
	raw, err := os.ReadFile(item)
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{"PLAINTEXT-TOKEN-4711", "access_token", "correct horse"} {
		if bytes.Contains(raw, []byte(needle)) {
			t.Errorf("item file contains %q in clear", needle)
		}
	}
	if strings.Count(string(raw), ".") != 4 {
		t.Errorf("item file is not a compact JWE")
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, item); m != 0o600 {
			t.Errorf("item mode %#o, want 0600", m)
		}
		for _, d := range []string{dir, filepath.Join(dir, "tokens")} {
			if m := mode(t, d); m != 0o700 {
				t.Errorf("%s mode %#o, want 0700", d, m)
			}
		}
	}

	// Overwrite: same key, new value; no temp files left behind; an old
	// loose mode is replaced.
	if err := os.Chmod(item, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Set(k1, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(k1); err != nil || string(got) != "second" {
		t.Fatalf("Get after overwrite = %q, %v", got, err)
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, item); m != 0o600 {
			t.Errorf("overwritten item mode %#o, want 0600", m)
		}
	}
	names, _ := os.ReadDir(filepath.Join(dir, "tokens"))
	if len(names) != 3 || names[0].Name() != checkName {
		t.Errorf("tokens dir holds %d files, want 2 items and the passphrase check (temp files left?)", len(names))
	}

	// Empty data round-trips.
	if err := st.Set(k2+".password", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(k2 + ".password"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty data: %q, %v", got, err)
	}

	if err := st.Remove(k1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(k1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove: %v", err)
	}
	if err := st.Remove(k1); err != nil {
		t.Errorf("Remove missing: %v", err)
	}
	if got, err := st.Get(k2); err != nil || string(got) != "other" {
		t.Errorf("Remove touched another key: %q, %v", got, err)
	}

	for _, bad := range []string{"../escape", "", ".tmp-x"} {
		if _, err := st.Get(bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want an invalid key error", bad, err)
		}
		if err := st.Set(bad, []byte("x")); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestFileGarbageIsAMiss(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "pw")
	good, garbage, truncated, flipped, hugeP2C := "good", "garbage", "truncated", "flipped", "hugep2c"
	for _, k := range []string{good, truncated, flipped, hugeP2C} {
		if err := st.Set(k, []byte("token-"+k)); err != nil {
			t.Fatal(err)
		}
	}
	td := filepath.Join(dir, "tokens")
	raw, err := os.ReadFile(filepath.Join(td, truncated))
	if err != nil {
		t.Fatal(err)
	}
	write := func(k string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(td, k), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(garbage, []byte("this is not a JWE at all\x00\xff"))
	write(truncated, raw[:len(raw)/2])
	// Flip one byte of the ciphertext (4th part): well-formed, the
	// passphrase opens the key, the content fails authentication.
	fraw, _ := os.ReadFile(filepath.Join(td, flipped))
	parts := strings.Split(string(fraw), ".")
	ct, _ := base64.RawURLEncoding.DecodeString(parts[3])
	ct[0] ^= 0x55
	parts[3] = base64.RawURLEncoding.EncodeToString(ct)
	write(flipped, []byte(strings.Join(parts, ".")))
	// A header asking for 10^9 PBKDF2 rounds must not be honoured.
	hraw, _ := os.ReadFile(filepath.Join(td, hugeP2C))
	parts = strings.Split(string(hraw), ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	h["p2c"] = 1_000_000_000
	hdr, _ = json.Marshal(h)
	parts[0] = base64.RawURLEncoding.EncodeToString(hdr)
	write(hugeP2C, []byte(strings.Join(parts, ".")))
	write("empty", nil)

	for _, k := range []string{garbage, truncated, flipped, hugeP2C, "empty"} {
		start := time.Now()
		_, err := st.Get(k)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", k, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Get(%s) took %v", k, d)
		}
	}
	if got, err := st.Get(good); err != nil || string(got) != "token-good" {
		t.Errorf("good item after the others broke: %q, %v", got, err)
	}
	// The engine overwrites a broken item.
	if err := st.Set(truncated, []byte("fresh")); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(truncated); err != nil || string(got) != "fresh" {
		t.Errorf("overwrite of a broken item: %q, %v", got, err)
	}
}

func TestFileWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "first-passphrase")
	if err := st.Set("k", []byte("secret-value-77")); err != nil {
		t.Fatal(err)
	}
	st2 := openTestFile(t, dir, "second-passphrase")
	_, err := st2.Get("k")
	if !IsUnavailable(err) {
		t.Fatalf("wrong passphrase: %v, want unavailable", err)
	}
	if !strings.Contains(err.Error(), "wrong passphrase") {
		t.Errorf("message does not say wrong passphrase: %v", err)
	}
	for _, s := range []string{"first-passphrase", "second-passphrase", "secret-value-77"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error contains %q: %v", s, err)
		}
	}
	// The item is left alone: the right passphrase still opens it.
	st3 := openTestFile(t, dir, "first-passphrase")
	if got, err := st3.Get("k"); err != nil || string(got) != "secret-value-77" {
		t.Errorf("after wrong passphrase: %q, %v", got, err)
	}
}

func TestFileNoPassphrase(t *testing.T) {
	dir := t.TempDir()
	if err := openTestFile(t, dir, "pw").Set("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	called := false
	oldTerm, oldPrompt := stdinIsTerminal, promptFunc
	defer func() { stdinIsTerminal, promptFunc = oldTerm, oldPrompt }()
	promptFunc = func(string) (string, error) { called = true; return "pw", nil }

	for _, c := range []struct {
		name        string
		interactive bool
		terminal    bool
	}{{"batch", false, false}, {"interactive without a terminal", true, false}, {"terminal but not interactive", false, true}} {
		stdinIsTerminal = func() bool { return c.terminal }
		t.Setenv(testPassEnv, "")
		st, err := Open(Config{Backend: "file", Dir: dir, PassphraseEnv: testPassEnv, Interactive: c.interactive})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Get("k")
		if !IsUnavailable(err) || !strings.Contains(err.Error(), testPassEnv) ||
			!strings.Contains(err.Error(), "passphrase_command") || !strings.Contains(err.Error(), "keyctl") {
			t.Errorf("%s: Get = %v, want unavailable naming %s, passphrase_command, keyctl", c.name, err, testPassEnv)
		}
		if err := st.Set("k2", []byte("v")); !IsUnavailable(err) {
			t.Errorf("%s: Set = %v, want unavailable", c.name, err)
		}
		if err := st.(Unlocker).Unlock(); !IsUnavailable(err) {
			t.Errorf("%s: Unlock = %v, want unavailable", c.name, err)
		}
		// A missing item is a miss even without a passphrase.
		if _, err := st.Get("missing"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Get missing = %v", c.name, err)
		}
	}
	if called {
		t.Error("prompted although not interactive or not a terminal")
	}

	// Interactive on a terminal: the prompt answers.
	stdinIsTerminal = func() bool { return true }
	st, err := Open(Config{Backend: "file", Dir: dir, PassphraseEnv: testPassEnv, Interactive: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get("k"); err != nil || string(got) != "v" || !called {
		t.Errorf("prompt: %q, %v, prompted=%v", got, err, called)
	}

	// Default env name appears in the message when none is configured.
	t.Setenv(DefaultPassphraseEnv, "")
	stdinIsTerminal = func() bool { return false }
	st, _ = Open(Config{Backend: "file", Dir: dir})
	if err := st.Set("k3", nil); !IsUnavailable(err) || !strings.Contains(err.Error(), DefaultPassphraseEnv) {
		t.Errorf("default env: %v", err)
	}
}

func TestFilePassphraseCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	dir := t.TempDir()
	t.Setenv(testPassEnv, "")
	st, err := Open(Config{Backend: "file", Dir: dir, PassphraseEnv: testPassEnv,
		PassphraseCommand: []string{"sh", "-c", `printf 'from command\n'`}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// Same passphrase through the env var: the trailing newline was trimmed.
	if got, err := openTestFile(t, dir, "from command").Get("k"); err != nil || string(got) != "v" {
		t.Errorf("env after command: %q, %v", got, err)
	}
	// The env var wins over the command (another cache: this one was
	// written with the command's passphrase).
	t.Setenv(testPassEnv, "from env")
	st, _ = Open(Config{Backend: "file", Dir: t.TempDir(), PassphraseEnv: testPassEnv,
		PassphraseCommand: []string{"sh", "-c", "exit 9"}})
	if err := st.Set("k2", []byte("v")); err != nil {
		t.Errorf("env should win over a failing command: %v", err)
	}

	t.Setenv(testPassEnv, "")
	for _, argv := range [][]string{
		{"sh", "-c", "printf leaked-secret; exit 3"},
		{"sh", "-c", "true"},
		{filepath.Join(dir, "no-such-command")},
	} {
		st, _ := Open(Config{Backend: "file", Dir: dir, PassphraseEnv: testPassEnv, PassphraseCommand: argv})
		_, err := st.Get("k")
		if !IsUnavailable(err) || strings.Contains(err.Error(), "leaked-secret") {
			t.Errorf("command %q: %v", argv, err)
		}
	}
}

func BenchmarkFileGet(b *testing.B) {
	e, _ := EncodeEntry(Entry{AccessToken: strings.Repeat("x", 1200), RefreshToken: strings.Repeat("r", 400), ExpiresAt: time.Now()})
	benchGet(b, openTestFile(b, b.TempDir(), "bench-passphrase"), "k", e)
}

// BenchmarkFileOpenGet is the cache-hit path of one process: Open, first Get.
func BenchmarkFileOpenGet(b *testing.B) {
	dir := b.TempDir()
	st := openTestFile(b, dir, "bench-passphrase")
	if err := st.Set("k", []byte("v")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		st, err := Open(Config{Backend: "file", Dir: dir, PassphraseEnv: testPassEnv})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Get("k"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileSet(b *testing.B) {
	st := openTestFile(b, b.TempDir(), "bench-passphrase")
	for b.Loop() {
		if err := st.Set("k", []byte("value")); err != nil {
			b.Fatal(err)
		}
	}
}

// Has tells a stored item without the passphrase's key derivation: status
// asks it for every profile.
func TestFileHas(t *testing.T) {
	dir := t.TempDir()
	st := openTestFile(t, dir, "pass-1")
	if Has(st, "k-1") {
		t.Fatal("Has before Set")
	}
	if err := st.Set("k-1", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if !Has(st, "k-1") || Has(st, "../k-1") {
		t.Fatal("Has after Set")
	}
	if !Has(openTestFile(t, dir, "another passphrase"), "k-1") {
		t.Fatal("Has depends on the passphrase")
	}
	if err := st.Remove("k-1"); err != nil {
		t.Fatal(err)
	}
	if Has(st, "k-1") {
		t.Fatal("Has after Remove")
	}
}

// readRegular reads a file whole up to maxItemSize bytes, and refuses one
// byte more.
func TestReadRegularBound(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 949, maxItemSize} {
		p := filepath.Join(dir, "ok")
		want := bytes.Repeat([]byte{'x'}, n)
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := readRegular(p); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	p := filepath.Join(dir, "big")
	if err := os.WriteFile(p, make([]byte, maxItemSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readRegular(p); !errors.Is(err, errTooLarge) {
		t.Errorf("maxItemSize+1 bytes: %v", err)
	}
}
