package helper_test

// Every product's flow against its emulator handler: grants, cache,
// refresh, logout, the x-api-version the engine sends, MFA, assertions and
// VSPC's static API keys.

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

const (
	azurePassword = "pw-AZURE-inproc-4"
	azureMFACode  = "424242"
)

// azureHome is a home with a vbazure password profile "azure" and an MFA
// profile "mfa" whose code comes from a command; set changes both.
func azureHome(t *testing.T, opts emulator.Options, set func(*testenv.Profile)) (*home, *emulator.Emulator) {
	t.Helper()
	x := newHome(t)
	em := x.server(emulator.ProductVBAzure, opts)
	em.AddUser("azure-admin", azurePassword)
	em.AddMFAUser("mfa-admin", azurePassword, azureMFACode)
	azure := x.user("azure", "vbazure", "azure-admin", azurePassword)
	mfa := x.user("mfa", "vbazure", "mfa-admin", azurePassword)
	mfa.MFACodeCommand = []string{"sh", "-c", "echo " + azureMFACode}
	if set != nil {
		set(&azure)
		set(&mfa)
	}
	x.use(azure, mfa)
	return x, em
}

// apiVersion gives the profile an api_version.
func apiVersion(v string) func(*testenv.Profile) {
	return func(p *testenv.Profile) { p.APIVersion = v }
}

func TestVBAzurePasswordMFAAndRefresh(t *testing.T) {
	x, em := azureHome(t, emulator.Options{}, nil)
	a := x.mustGet(helper.Request{Profile: "azure"}, helper.SourceGrant)
	m := x.mustGet(helper.Request{Profile: "mfa"}, helper.SourceGrant)
	if !em.Valid(token(a)) || !em.Valid(token(m)) {
		t.Fatal("tokens not accepted")
	}
	rf := x.mustGet(helper.Request{Profile: "mfa", ForceRefresh: true}, helper.SourceRefresh)
	if !em.Valid(token(rf)) || token(rf) == token(m) {
		t.Fatal("refresh answered no new valid token")
	}
	if n := em.Counts(); n.Grants["Password"] != 2 || n.Grants["Mfa"] != 1 || n.Grants["Refresh_token"] != 1 || n.RefreshReuse != 0 {
		t.Errorf("server saw grants %v, %d reuses", n.Grants, n.RefreshReuse)
	}
	x.logout("mfa")
	if em.Valid(token(rf)) || em.Counts().Logouts != 1 {
		t.Errorf("logout did not end the session: %+v", em.Counts())
	}
}

// The api-version the server insists on is sent from the profile; an MFA
// code without a source is exit 5 naming the ways to give one, a wrong
// one exit 3 (never echoed), the request's code is used.
func TestVBAzureAPIVersionAndMFACodeSources(t *testing.T) {
	x, em := azureHome(t, emulator.Options{RequireAPIVersion: "v7"}, func(p *testenv.Profile) {
		p.APIVersion = "v7"
		p.MFACodeCommand = nil
	})
	x.mustGet(helper.Request{Profile: "azure"}, helper.SourceGrant)
	mfa := helper.Request{Profile: "mfa"}
	if msg := x.fail(mfa, exitcode.Interaction); !strings.Contains(msg, "mfa_code") || !strings.Contains(msg, "mfa_code_command") {
		t.Errorf("no code: %q", msg)
	}
	wrong := mfa
	wrong.MFACode = "999111"
	msg := x.fail(wrong, exitcode.Rejected)
	noLeak(t, "error", msg+x.stderr.String(), em, "999111", azurePassword)
	right := mfa
	right.MFACode = azureMFACode
	if r := x.mustGet(right, helper.SourceGrant); !em.Valid(token(r)) {
		t.Error("token not accepted")
	}
	if q := em.LastQuery(); q.Get("api-version") != "v7" {
		t.Errorf("api-version %q", q.Get("api-version"))
	}
}

func TestVB365JWTBearerAndOperator(t *testing.T) {
	x := newHome(t)
	em := x.server(emulator.ProductVB365, emulator.Options{})
	em.AddJWTClient("app-1", "jwt-assertion-secret-A")
	em.AddOperator("user-7.tenant-9", "operator-assertion-secret-B")
	app := x.ProfileOf("app", "vb365")
	app.Grant, app.ClientID, app.AssertionFile = "jwt-bearer", "app-1", x.file("app.jwt", "jwt-assertion-secret-A\n")
	op := x.ProfileOf("op", "vb365")
	op.Grant, op.ClientID, op.AssertionCommand = "operator", "user-7.tenant-9", []string{"printf", "%s", "operator-assertion-secret-B"}
	x.use(app, op)
	for p, id := range map[string]string{"app": "app-1", "op": "user-7.tenant-9"} {
		r := x.mustGet(helper.Request{Profile: p}, helper.SourceGrant)
		// The identity is the client_id when there is no username.
		if !em.Valid(token(r)) || r.Profile.Identity() != id {
			t.Errorf("%s: valid %v, identity %q", p, em.Valid(token(r)), r.Profile.Identity())
		}
	}
	if n := em.Counts(); n.Grants["urn:ietf:params:oauth:grant-type:jwt-bearer"] != 1 || n.Grants["operator"] != 1 {
		t.Errorf("server saw grants %v", n.Grants)
	}
	x.mustGet(helper.Request{Profile: "app", ForceRefresh: true}, helper.SourceRefresh)
	// A wrong assertion in the request is rejected and not echoed.
	x.logout("app")
	msg := x.fail(helper.Request{Profile: "app", Assertion: "wrong-assertion-XYZ"}, exitcode.Rejected)
	noLeak(t, "error", msg+x.stderr.String(), em, "wrong-assertion-XYZ", "jwt-assertion-secret-A")
}

func TestVB365AuthCode(t *testing.T) {
	x, em := m365Home(t, emulator.Options{}, nil)
	code, err := x.h.AuthCode(t.Context(), "m365")
	if err != nil {
		t.Fatal(err)
	}
	if code == "" || strings.ContainsAny(code, " \n") || em.Counts().AuthCodes != 1 || em.Counts().Grants["password"] != 1 {
		t.Errorf("auth code %q, server saw %+v", code, em.Counts())
	}
	// The code was asked with the cached token: no second login.
	if _, err := x.h.AuthCode(t.Context(), "m365"); err != nil || em.Counts().Grants["password"] != 1 || em.Counts().AuthCodes != 2 {
		t.Errorf("second code: %v, %+v", err, em.Counts())
	}
	a, _ := azureHome(t, emulator.Options{}, nil)
	if _, err := a.h.AuthCode(t.Context(), "azure"); exitOf(err) != exitcode.Usage || !strings.Contains(err.Error(), "vb365 only") {
		t.Errorf("auth-code of vbazure: %v", err)
	}
}

// The products added after vb365 and vbazure, each against its emulator
// handler, which insists on the x-api-version the engine should send.
type laterProduct struct {
	product    string
	user       string
	apiVersion string // the x-api-version sent by default ("" = none)
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

// laterHome is a home with one profile "p" of the product.
func laterHome(t *testing.T, lp laterProduct, set func(*testenv.Profile)) (*home, *emulator.Emulator) {
	t.Helper()
	x := newHome(t)
	em := x.server(lp.product, emulator.Options{RequireAPIVersion: lp.apiVersion})
	em.AddUser(lp.user, laterPassword)
	p := x.user("p", lp.product, lp.user, laterPassword)
	if set != nil {
		set(&p)
	}
	x.use(p)
	return x, em
}

var pReq = helper.Request{Profile: "p"}

func TestLaterProductsGrantCacheRefreshLogout(t *testing.T) {
	for _, lp := range laterProducts {
		t.Run(lp.product, func(t *testing.T) {
			t.Parallel()
			x, em := laterHome(t, lp, nil)
			a := x.mustGet(pReq, helper.SourceGrant)
			if tokenType(a) != "Bearer" || expiry(a).IsZero() || a.Profile.Identity() != lp.user {
				t.Fatalf("grant: type %q, expiry %v, identity %q", tokenType(a), expiry(a), a.Profile.Identity())
			}
			if got := em.LastHeader().Get("x-api-version"); got != lp.apiVersion {
				t.Errorf("token call x-api-version %q, want %q", got, lp.apiVersion)
			}
			if st := testenv.Protected(t, em, token(a), lp.apiVersion); st != http.StatusOK {
				t.Fatalf("protected resource answered %d", st)
			}
			if c := x.mustGet(pReq, helper.SourceCache); token(c) != token(a) {
				t.Error("the cache hit answered another token")
			}
			seen := map[string]bool{token(a): true}
			for i := 0; i < 3; i++ {
				f := x.mustGet(helper.Request{Profile: "p", ForceRefresh: true}, helper.SourceRefresh)
				if seen[token(f)] || testenv.Protected(t, em, token(f), lp.apiVersion) != http.StatusOK {
					t.Fatalf("refresh %d: repeated %v", i, seen[token(f)])
				}
				seen[token(f)] = true
				a = f
			}
			if n := em.Counts(); n.RefreshReuse != 0 || n.Grants["refresh_token"] != 3 || n.Grants["password"] != 1 || n.TokenCalls != 4 {
				t.Errorf("server saw %d calls, grants %v, %d reuses", n.TokenCalls, n.Grants, n.RefreshReuse)
			}
			if got := em.LastHeader().Get("x-api-version"); got != lp.apiVersion {
				t.Errorf("refresh call x-api-version %q", got)
			}
			x.logout("p")
			if lp.logout {
				if em.Valid(token(a)) || em.Counts().Logouts != 1 {
					t.Errorf("server session not ended: %+v", em.Counts())
				}
			} else if em.Counts().Logouts != 0 || !em.Valid(token(a)) {
				// vspc: revocation is per user and documented as an emergency measure.
				t.Errorf("vspc logout touched the server: %+v", em.Counts())
			}
			if s := x.status("p"); s.Valid || s.RefreshTokenPresent {
				t.Errorf("status after logout: %+v", s)
			}
			if b := x.mustGet(pReq, helper.SourceGrant); token(b) == token(a) {
				t.Error("after logout the old token was answered")
			}
		})
	}
}

// The profile's api_version is the x-api-version of every call.
func TestVBRAPIVersionFromProfile(t *testing.T) {
	lp := laterProducts[0]
	lp.apiVersion = "1.2-rev0"
	x, em := laterHome(t, lp, apiVersion("1.2-rev0"))
	if r := x.mustGet(pReq, helper.SourceGrant); testenv.Protected(t, em, token(r), "1.2-rev0") != http.StatusOK {
		t.Error("token not accepted")
	}
}

func TestCloudProductsMFA(t *testing.T) {
	for _, product := range []string{"vbaws", "vbgcp"} {
		t.Run(product, func(t *testing.T) {
			x := newHome(t)
			em := x.server(product, emulator.Options{})
			em.AddMFAUser("mfa-admin", laterPassword, "654321")
			em.AddMFAUser("mfa-other", laterPassword, "654321")
			withCode := x.user("mfa", product, "mfa-admin", laterPassword)
			withCode.MFACodeCommand = []string{"sh", "-c", "echo 654321"}
			x.use(withCode, x.user("nocode", product, "mfa-other", laterPassword))
			if r := x.mustGet(helper.Request{Profile: "mfa"}, helper.SourceGrant); !em.Valid(token(r)) {
				t.Fatal("token not accepted")
			}
			if n := em.Counts(); n.Grants["password"] != 1 || n.Grants["mfa"] != 1 {
				t.Errorf("server saw grants %v", n.Grants)
			}
			x.mustGet(helper.Request{Profile: "mfa", ForceRefresh: true}, helper.SourceRefresh)
			if msg := x.fail(helper.Request{Profile: "nocode"}, exitcode.Interaction); !strings.Contains(msg, "mfa_code") {
				t.Errorf("no code: %q", msg)
			}
			msg := x.fail(helper.Request{Profile: "nocode", MFACode: "111999"}, exitcode.Rejected)
			noLeak(t, "error", msg, em, "111999", laterPassword)
			x.mustGet(helper.Request{Profile: "nocode", MFACode: "654321"}, helper.SourceGrant)
		})
	}
}

// A VSPC API key is the bearer token itself: answered from its source on
// every call (a rotated key takes effect at once), never cached, never
// sent to the token endpoint.
func TestVSPCAPIKey(t *testing.T) {
	x := newHome(t)
	em := x.server(emulator.ProductVSPC, emulator.Options{})
	em.AddAPIKey("portal-admin", "vspc-apikey-one-1111")
	em.AddAPIKey("portal-admin", "vspc-apikey-two-2222")
	key := x.ProfileOf("key", "vspc")
	key.Grant, key.APIKeyFile = "api-key", x.file("vspc.key", "vspc-apikey-one-1111\n")
	x.use(key)
	req := helper.Request{Profile: "key"}
	r := x.mustGet(req, helper.SourceGrant)
	if token(r) != "vspc-apikey-one-1111" || tokenType(r) != "Bearer" || !expiry(r).IsZero() || testenv.Protected(t, em, token(r), "") != http.StatusOK {
		t.Fatalf("api key answer: token ok %v, type %q, expiry %v", token(r) == "vspc-apikey-one-1111", tokenType(r), expiry(r))
	}
	if files, _ := filepath.Glob(filepath.Join(x.CacheDir, "tokens", "*")); len(files) != 0 {
		t.Errorf("api key written to the cache: %v", files)
	}
	if s := x.status("key"); !s.Static || s.Valid || s.RefreshTokenPresent {
		t.Errorf("status %+v", s)
	}
	x.file("vspc.key", "vspc-apikey-two-2222\n")
	if r := x.mustGet(req, helper.SourceGrant); token(r) != "vspc-apikey-two-2222" {
		t.Error("the rotated key was not answered")
	}
	if n := em.Counts(); n.TokenCalls != 0 {
		t.Errorf("an api-key profile called the token endpoint %d times", n.TokenCalls)
	}
	// Without a source: exit 5 naming them; `login` stores the key.
	key.APIKeyFile = ""
	x.use(key)
	if msg := x.fail(req, exitcode.Interaction); !strings.Contains(msg, "api_key_env") || !strings.Contains(msg, "api_key_file") {
		t.Errorf("no key: %q", msg)
	}
	res, err := x.h.Login(t.Context(), "key", "vspc-apikey-two-2222")
	if err != nil || token(res) != "vspc-apikey-two-2222" {
		t.Fatalf("login: %v", err)
	}
	if r := x.mustGet(req, helper.SourceGrant); token(r) != "vspc-apikey-two-2222" {
		t.Error("the stored key was not answered")
	}
	if s := x.status("key"); !s.SecretStored {
		t.Errorf("status after login: %+v", s)
	}
	noLeak(t, "stderr", x.stderr.String(), em, "vspc-apikey")
}

func TestUnknownProductNamesTheKnownOnes(t *testing.T) {
	x := newHome(t)
	x.Profiles(testenv.Profile{Name: "x", Product: "vbo365", URL: "https://vbo.example.com:4443", Username: "u"})
	_, err := config.Load(x.ConfigPath)
	if exitOf(err) != exitcode.Usage || !strings.Contains(err.Error(), `"vbo365"`) {
		t.Fatalf("unknown product: %v", err)
	}
	for _, p := range config.ProductNames() {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("message does not name %s: %q", p, err)
		}
	}
	if len(config.ProductNames()) != 7 {
		t.Errorf("products %v", config.ProductNames())
	}
}
