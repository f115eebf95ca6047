package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// The later products, each against its emulator handler, through the binary.

type laterProduct struct {
	product    string
	user       string
	apiVersion string // the x-api-version the helper sends by default ("" = none)
	logout     bool   // the product has a per-session server logout
}

var laterProducts = []laterProduct{
	{"vbr", `CORP\backup-ops`, "1.1-rev0", true},
	{"vbaws", "aws-admin", "1.5-rev1", true},
	{"vbgcp", "gcp-admin", "1.3-rev0", true},
	{"vone", `ONESRV\administrator`, "", true},
	{"vspc", `vspc\portal-admin`, "", false},
}

const laterPassword = "pw-Later-Products-42"

// laterEnv is a home with one profile "p" of the product; the emulator
// insists on the x-api-version the helper is expected to send.
func laterEnv(t *testing.T, lp laterProduct, extra string) (*testenv.Env, *emulator.Emulator) {
	t.Helper()
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: lp.product, RequireAPIVersion: lp.apiVersion})
	em.AddUser(lp.user, laterPassword)
	e.Vars["LATER_PASSWORD"] = laterPassword
	e.WriteConfig(fmt.Sprintf(`[profiles.p]
product = %q
url = %q
username = '%s'
password_env = "LATER_PASSWORD"
ca_file = %q
refresh_before = "10s"
%s`, lp.product, em.URL(), lp.user, e.CAFile(lp.product), extra))
	return e, em
}

func TestLaterProductsGrantCacheRefreshLogout(t *testing.T) {
	for _, lp := range laterProducts {
		t.Run(lp.product, func(t *testing.T) {
			e, em := laterEnv(t, lp, "")
			r := e.Run("", "get")
			mustOK(t, r)
			a := decode(t, r)
			if a.Source != "grant" || a.Product != lp.product || a.Username != lp.user || a.TokenType != "Bearer" || a.ExpiresAt.IsZero() {
				t.Fatalf("grant answer %+v", a)
			}
			if got := em.LastHeader().Get("x-api-version"); got != lp.apiVersion {
				t.Errorf("token call x-api-version %q, want %q", got, lp.apiVersion)
			}
			if st := testenv.Protected(t, em, a.AccessToken, lp.apiVersion); st != 200 {
				t.Fatalf("protected resource answered %d", st)
			}

			c := decode(t, e.Run("", "get"))
			if c.Source != "cache" || c.AccessToken != a.AccessToken {
				t.Errorf("second get: source %s", c.Source)
			}
			if n := em.Counts(); n.TokenCalls != 1 || n.Grants["password"] != 1 {
				t.Errorf("after the cache hit the server saw %+v", n)
			}

			seen := map[string]bool{a.AccessToken: true}
			for i := 0; i < 3; i++ {
				r := e.Run("", "get", "--force-refresh")
				mustOK(t, r)
				f := decode(t, r)
				if f.Source != "refresh" || seen[f.AccessToken] || testenv.Protected(t, em, f.AccessToken, lp.apiVersion) != 200 {
					t.Fatalf("refresh %d: %+v", i, f)
				}
				seen[f.AccessToken] = true
				a = f
			}
			if n := em.Counts(); n.RefreshReuse != 0 || n.Grants["refresh_token"] != 3 || n.Grants["password"] != 1 {
				t.Errorf("after three refreshes the server saw %+v", n)
			}
			if em.LastHeader().Get("x-api-version") != lp.apiVersion {
				t.Errorf("refresh call x-api-version %q", em.LastHeader().Get("x-api-version"))
			}

			mustOK(t, e.Run("", "logout"))
			if lp.logout {
				if em.Valid(a.AccessToken) || em.Counts().Logouts != 1 {
					t.Errorf("server session not ended: %+v", em.Counts())
				}
			} else if em.Counts().Logouts != 0 || !em.Valid(a.AccessToken) {
				// vspc: revocation is per user and documented as an emergency measure.
				t.Errorf("vspc logout touched the server: %+v", em.Counts())
			}
			b := decode(t, e.Run("", "get"))
			if b.Source != "grant" || b.AccessToken == a.AccessToken {
				t.Errorf("after logout: %+v", b)
			}
		})
	}
}

func TestLaterProductsErrorsMapToExitCodes(t *testing.T) {
	for _, lp := range laterProducts {
		t.Run(lp.product, func(t *testing.T) {
			e, em := laterEnv(t, lp, "")
			e.Vars["LATER_PASSWORD"] = "wrong-Secret-9911"
			r := e.Run("", "get")
			if r.Exit != 3 {
				t.Fatalf("wrong password: exit %d %q", r.Exit, r.Stderr)
			}
			if strings.Count(r.Stderr, "\n") != 1 || strings.Contains(r.Stderr+r.Stdout, "wrong-Secret-9911") {
				t.Errorf("stderr %q", r.Stderr)
			}
			// The server's own words reach the user, whatever the error shape.
			if !strings.Contains(strings.ToLower(r.Stderr), "invalid user") {
				t.Errorf("stderr does not quote the server: %q", r.Stderr)
			}
			if a := decode(t, r); a.Error == nil || a.Error.Code != "invalid_credentials" {
				t.Errorf("answer %+v", a)
			}
			if n := em.Counts().TokenCalls; n != 1 {
				t.Errorf("a rejected grant was sent %d times", n)
			}

			e.Vars["LATER_PASSWORD"] = laterPassword
			em.FailNext(1, 500, 0)
			r = e.Run("", "get")
			if r.Exit != 4 || strings.Contains(r.Stderr+r.Stdout, emulator.StackTraceMarker) {
				t.Fatalf("5xx: exit %d %q", r.Exit, r.Stderr)
			}
			if a := decode(t, r); a.Error == nil || a.Error.Code != "server_unavailable" {
				t.Errorf("answer %+v", a)
			}

			// Throttled once: the helper waits and gets its token.
			em.FailNext(1, http.StatusTooManyRequests, time.Second)
			before := em.Counts().TokenCalls
			r = e.Run("", "get")
			mustOK(t, r)
			if n := em.Counts().TokenCalls - before; n != 2 {
				t.Errorf("429 then success took %d calls", n)
			}
		})
	}
}

func TestVBRAPIVersionFromProfile(t *testing.T) {
	lp := laterProducts[0]
	lp.apiVersion = "1.2-rev0"
	e, em := laterEnv(t, lp, `api_version = "1.2-rev0"`+"\n")
	r := e.Run("", "get")
	mustOK(t, r)
	a := decode(t, r)
	if testenv.Protected(t, em, a.AccessToken, "1.2-rev0") != 200 {
		t.Error("token not accepted")
	}
	// A revision the server does not support is a configuration error
	// naming api_version (exit 2), not rejected credentials.
	e2, _ := laterEnv(t, lp, `api_version = "1.1-rev2"`+"\n")
	r = e2.Run("", "get")
	if r.Exit != 2 || !strings.Contains(r.Stderr, "1.1-rev2") || !strings.Contains(r.Stderr, "api_version") {
		t.Errorf("unknown revision: exit %d %q", r.Exit, r.Stderr)
	}
}

func TestCloudProductsMFA(t *testing.T) {
	for _, product := range []string{"vbaws", "vbgcp"} {
		t.Run(product, func(t *testing.T) {
			e := testenv.New(t)
			em := e.Emulator(emulator.Options{Product: product})
			em.AddMFAUser("mfa-admin", laterPassword, "654321")
			em.AddMFAUser("mfa-other", laterPassword, "654321")
			e.Vars["LATER_PASSWORD"] = laterPassword
			e.WriteConfig(fmt.Sprintf(`[profiles.mfa]
product = %q
url = %q
username = "mfa-admin"
password_env = "LATER_PASSWORD"
mfa_code_command = ["sh", "-c", "echo 654321"]
ca_file = %q

[profiles.nocode]
product = %[1]q
url = %[2]q
username = "mfa-other"
password_env = "LATER_PASSWORD"
ca_file = %[3]q
`, product, em.URL(), e.CAFile(product)))
			r := e.Run("", "-p", "mfa", "get")
			mustOK(t, r)
			a := decode(t, r)
			if a.Source != "grant" || !em.Valid(a.AccessToken) {
				t.Fatalf("%+v", a)
			}
			if n := em.Counts(); n.Grants["password"] != 1 || n.Grants["mfa"] != 1 {
				t.Errorf("counts %+v", n)
			}
			// No code source and no terminal: exit 5; a wrong code: exit 3.
			if r := e.Run("", "-p", "nocode", "get"); r.Exit != 5 || !strings.Contains(r.Stderr, "mfa_code") {
				t.Errorf("no code: exit %d %q", r.Exit, r.Stderr)
			}
			if r := e.Run(`{"mfa_code":"111999"}`, "-p", "nocode", "get"); r.Exit != 3 || strings.Contains(r.Stderr+r.Stdout, "111999") {
				t.Errorf("wrong code: exit %d %q", r.Exit, r.Stderr)
			}
		})
	}
}

func TestVSPCAPIKey(t *testing.T) {
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vspc"})
	em.AddAPIKey("portal-admin", "vspc-apikey-one-1111")
	em.AddAPIKey("portal-admin", "vspc-apikey-two-2222")
	e.Vars["VSPC_KEY"] = "vspc-apikey-one-1111"
	e.WriteConfig(fmt.Sprintf(`[profiles.key]
product = "vspc"
url = %q
grant = "api-key"
api_key_env = "VSPC_KEY"
ca_file = %q
`, em.URL(), e.CAFile("vspc")))
	r := e.Run("", "get")
	mustOK(t, r)
	if strings.Contains(r.Stdout, "expires_at") {
		t.Errorf("an API key answer carries an expiry: %s", r.Stdout)
	}
	a := decode(t, r)
	if a.AccessToken != "vspc-apikey-one-1111" || a.TokenType != "Bearer" || testenv.Protected(t, em, a.AccessToken, "") != 200 {
		t.Fatalf("api key answer %+v", a)
	}
	// The key is never copied into the token cache.
	if files, _ := filepath.Glob(filepath.Join(e.CacheDir, "tokens", "*")); len(files) != 0 {
		t.Errorf("api key written to the cache: %v", files)
	}
	if st := e.Run("", "status"); !strings.Contains(st.Stdout, "static API key") || strings.Contains(st.Stdout, "vspc-apikey") {
		t.Errorf("status %q", st.Stdout)
	}
	// A rotated key takes effect at once; the server is never asked for a token.
	e.Vars["VSPC_KEY"] = "vspc-apikey-two-2222"
	if b := decode(t, e.Run("", "get", "--format", "json")); b.AccessToken != "vspc-apikey-two-2222" {
		t.Errorf("rotated key not used: %+v", b)
	}
	r = e.Run("", "get", "--format", "env")
	mustOK(t, r)
	if !strings.Contains(r.Stdout, "VEEAM_ACCESS_TOKEN=") {
		t.Errorf("env format %q", r.Stdout)
	}
	if n := em.Counts(); n.TokenCalls != 0 {
		t.Errorf("api-key profile called the token endpoint: %+v", n)
	}
	// login stores the key in the keyring; it then serves without the env.
	delete(e.Vars, "VSPC_KEY")
	if r := e.Run("", "get"); r.Exit != 5 || !strings.Contains(r.Stderr, "api_key_env") {
		t.Errorf("no key: exit %d %q", r.Exit, r.Stderr)
	}
	r = e.Run("vspc-apikey-two-2222\n", "login", "--password-stdin")
	mustOK(t, r)
	if strings.Contains(r.Stderr+r.Stdout, "vspc-apikey-two") {
		t.Errorf("login echoed the key: %q", r.Stderr)
	}
	if c := decode(t, e.Run("", "get")); c.AccessToken != "vspc-apikey-two-2222" {
		t.Errorf("stored key not used: %+v", c)
	}
	// A key in a file works too.
	kf := filepath.Join(e.Dir, "vspc.key")
	if err := os.WriteFile(kf, []byte("vspc-apikey-one-1111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.WriteConfig(fmt.Sprintf(`[profiles.key]
product = "vspc"
url = %q
grant = "api-key"
api_key_file = %q
`, em.URL(), kf))
	if d := decode(t, e.Run("", "get")); d.AccessToken != "vspc-apikey-one-1111" {
		t.Errorf("api_key_file: %+v", d)
	}
}

func TestUnknownProductNamesTheKnownOnes(t *testing.T) {
	e := testenv.New(t)
	e.WriteConfig(`[profiles.x]
product = "vbo365"
url = "https://vbo.example.com:4443"
username = "u"
`)
	r := e.Run("", "get")
	if r.Exit != 2 || !strings.Contains(r.Stderr, `"vbo365"`) {
		t.Fatalf("exit %d %q", r.Exit, r.Stderr)
	}
	for _, p := range []string{"vb365", "vbazure", "vbr", "vbaws", "vbgcp", "vone", "vspc"} {
		if !strings.Contains(r.Stderr, p) {
			t.Errorf("stderr does not name %s: %q", p, r.Stderr)
		}
	}
}
