package helper_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// Each product's errors, as its emulator answers them after the vendor's
// REST reference, through the engine in process: the exit code and the one
// line the user reads.

const (
	ptPassword = "pw-Products-Table-77"
	ptWrong    = "wrong-Products-Table-13"
)

// productHome is a home with one profile "p" of opts.Product for user,
// its password in PT_PASSWORD, the emulator's CA, then what set changes
// (set may be nil); the Helper's stderr is the returned buffer.
func productHome(t *testing.T, opts emulator.Options, user string, set func(*testenv.Profile)) (*emulator.Emulator, *helper.Helper, *bytes.Buffer) {
	t.Helper()
	e := testenv.New(t)
	em := e.Emulator(opts)
	em.AddUser(user, ptPassword)
	e.Vars["PT_PASSWORD"] = ptPassword
	p := e.UserProfile("p", opts.Product, user, "PT_PASSWORD")
	if set != nil {
		set(&p)
	}
	e.Profiles(p)
	h := e.Helper()
	var stderr bytes.Buffer
	h.Stderr = &stderr
	return em, h, &stderr
}

func get(h *helper.Helper, force bool) (*helper.Result, error) {
	return h.Get(context.Background(), helper.Request{Profile: "p", ForceRefresh: force})
}

// wantFailure checks err's exit code and that its message is one line
// holding every part of want and no secret or stack trace.
func wantFailure(t *testing.T, err error, exit int, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want exit %d %q", exit, want)
	}
	msg := err.Error()
	if got := exitcode.Of(err); got != exit {
		t.Errorf("exit %d, want %d: %s", got, exit, msg)
	}
	if strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, emulator.StackTraceMarker) ||
		strings.Contains(msg, ptPassword) || strings.Contains(msg, ptWrong) {
		t.Errorf("message is not one clean line: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q does not hold %q", msg, w)
		}
	}
}

type productErrors struct {
	product, user string
	// rejected is what the engine says of a wrong password: the status and
	// the server's own words from its error shape.
	rejected string
	// serverError is the status a 500 reaches the user as (VSPC: 520).
	serverError string
	// deadToken is what the engine says when the server answers the
	// logout of a dead access token with its 401 ("" = no server logout).
	deadToken string
	// revision: the product sends x-api-version.
	revision bool
}

var productTable = []productErrors{
	{"vb365", `corp\svc`, `server rejected the password grant (HTTP 400): Invalid username or password. (AccessDenied)`,
		"server error (HTTP 500): Internal Server Error. (InternalServerError)", "rejected the logout (HTTP 401): Authorization has been denied for this request. (AccessDenied)", false},
	{"vbazure", "azure-admin", `server rejected the password (HTTP 401): Invalid username or password.`,
		"server error (HTTP 500): Internal Server Error.", "rejected the logout (HTTP 401): Authorization has been denied for this request.", false},
	{"vbr", `CORP\ops`, `server rejected the password (HTTP 401): Invalid username or password. (AccessDenied)`,
		"server error (HTTP 500): Internal Server Error. (UnknownError)", "rejected the logout (HTTP 401): Authorization has been denied for this request. (AccessDenied)", true},
	{"vbaws", "aws-admin", `server rejected the password (HTTP 401): Invalid user name or password. (AccessDenied)`,
		"server error (HTTP 500): Internal Server Error. (UnknownError)", "rejected the logout (HTTP 401): Authorization has been denied for this request. (AccessDenied)", true},
	{"vbgcp", "gcp-admin", `server rejected the password (HTTP 401): Invalid user name or password. (AccessDenied)`,
		"server error (HTTP 500): Internal Server Error. (UnknownError)", "rejected the logout (HTTP 401): Authorization has been denied for this request. (AccessDenied)", true},
	{"vone", `ONESRV\admin`, `server rejected the password (HTTP 400): Invalid user name or password.`,
		"server error (HTTP 500): Internal Server Error.", "rejected the logout (HTTP 401): Authorization has been denied for this request.", false},
	{"vspc", `vspc\admin`, `server rejected the password (HTTP 400): Invalid user name or password.`,
		"server error (HTTP 520): Internal Server Error.", "", false},
}

func TestProductErrors(t *testing.T) {
	for _, pe := range productTable {
		t.Run(pe.product, func(t *testing.T) {
			opts := emulator.Options{Product: pe.product}
			t.Run("wrong password", func(t *testing.T) {
				em, h, _ := productHome(t, opts, pe.user, nil)
				t.Setenv("PT_PASSWORD", ptWrong)
				_, err := get(h, false)
				wantFailure(t, err, exitcode.Rejected, `profile "p": `+pe.rejected)
				if n := em.Counts().TokenCalls; n != 1 {
					t.Errorf("a rejected password was sent %d times", n)
				}
			})
			t.Run("server error", func(t *testing.T) {
				em, h, _ := productHome(t, opts, pe.user, nil)
				em.FailNext(1, http.StatusInternalServerError, 0)
				_, err := get(h, false)
				wantFailure(t, err, exitcode.Unreachable, pe.serverError)
			})
			t.Run("throttled once", func(t *testing.T) {
				em, h, _ := productHome(t, opts, pe.user, nil)
				em.FailNext(1, http.StatusTooManyRequests, time.Second)
				if _, err := get(h, false); err != nil {
					t.Fatal(err)
				}
				if n := em.Counts().TokenCalls; n != 2 {
					t.Errorf("429 then a token took %d calls", n)
				}
			})
			// The server asks for 1 s between attempts (VSPC in its body,
			// the others in Retry-After); within a 1.5 s budget that is two
			// attempts. Without the hint the engine's own backoff
			// (250 ms, 500 ms, …) would have made three.
			t.Run("throttled out", func(t *testing.T) {
				em, h, _ := productHome(t, opts, pe.user, timeout("1500ms"))
				em.FailNext(5, http.StatusTooManyRequests, time.Second)
				_, err := get(h, false)
				wantFailure(t, err, exitcode.Unreachable, "server busy (HTTP 429) after 2 attempts within timeout 1.5s")
			})
			t.Run("dead refresh token", func(t *testing.T) {
				em, h, _ := productHome(t, opts, pe.user, nil)
				if _, err := get(h, false); err != nil {
					t.Fatal(err)
				}
				em.RevokeRefreshTokens()
				r, err := get(h, true)
				if err != nil || r.Source != helper.SourceGrant {
					t.Fatalf("after a refused refresh: %v %+v", err, r)
				}
				if n := em.Counts(); n.FailedGrants["refresh_token"]+n.FailedGrants["Refresh_token"] != 1 {
					t.Errorf("counts %+v", n)
				}
			})
			t.Run("dead token at logout", func(t *testing.T) {
				em, h, stderr := productHome(t, opts, pe.user, nil)
				if _, err := get(h, false); err != nil {
					t.Fatal(err)
				}
				em.ExpireAccessTokens()
				if err := h.Logout(context.Background(), "p", false); err != nil {
					t.Fatalf("logout: %v", err)
				}
				warning := stderr.String()
				if pe.deadToken == "" {
					if warning != "" || em.Counts().ProtectedDenied != 0 {
						t.Errorf("logout without a server logout called the server: %q", warning)
					}
					return
				}
				if strings.Count(warning, "\n") != 1 || !strings.Contains(warning, "server logout failed") || !strings.Contains(warning, pe.deadToken) {
					t.Errorf("warning %q does not quote %q", warning, pe.deadToken)
				}
			})
			if !pe.revision {
				return
			}
			// An appliance that refuses the default revision names those
			// it supports; the engine retries once with the newest and
			// tells the user which api_version to set.
			t.Run("default revision refused", func(t *testing.T) {
				opts := opts
				opts.APIVersions = []string{"1.0-rev9", "1.9-rev0", "1.10-rev1"}
				em, h, stderr := productHome(t, opts, pe.user, nil)
				r, err := get(h, false)
				if err != nil {
					t.Fatal(err)
				}
				if got := em.LastHeader().Get("x-api-version"); got != "1.10-rev1" || em.Counts().TokenCalls != 2 {
					t.Errorf("retried with %q after %d calls", got, em.Counts().TokenCalls)
				}
				if testenv.Protected(t, em, r.AccessToken, "1.10-rev1") != 200 {
					t.Error("token not accepted")
				}
				if w := stderr.String(); strings.Count(w, "\n") != 1 || !strings.Contains(w, `set api_version = "1.10-rev1"`) {
					t.Errorf("warning %q", w)
				}
				if r, err := get(h, true); err != nil || r.Source != helper.SourceRefresh {
					t.Fatalf("refresh: %v", err)
				}
				if err := h.Logout(context.Background(), "p", false); err != nil || em.Counts().Logouts != 1 {
					t.Errorf("logout: %v, %+v", err, em.Counts())
				}
			})
			// A revision the profile names is the user's choice: refused,
			// it is a configuration error naming api_version, never
			// rejected credentials, and it is not replaced.
			t.Run("set revision refused", func(t *testing.T) {
				opts := opts
				opts.APIVersions = []string{"1.2-rev0"}
				em, h, _ := productHome(t, opts, pe.user, apiVersion("1.1-rev2"))
				_, err := get(h, false)
				wantFailure(t, err, exitcode.Usage, `does not support API version "1.1-rev2" (it names 1.2-rev0): set api_version`)
				if n := em.Counts().TokenCalls; n != 1 {
					t.Errorf("%d calls", n)
				}
			})
		})
	}
}

// VB for Azure: an api-version the server refuses is a configuration
// error, whether the profile names one or the server wants one.
func TestVBAzureAPIVersionErrors(t *testing.T) {
	em, h, _ := productHome(t, emulator.Options{Product: "vbazure", RequireAPIVersion: "5.0"}, "azure-admin", apiVersion("4.0"))
	_, err := get(h, false)
	wantFailure(t, err, exitcode.Usage, `does not support API version "4.0"`, "set api_version")
	_, h, _ = productHome(t, emulator.Options{Product: "vbazure", RequireAPIVersion: "5.0"}, "azure-admin", nil)
	_, err = get(h, false)
	wantFailure(t, err, exitcode.Usage, "requires an API version: set api_version")
	if n := em.Counts().TokenCalls; n != 1 {
		t.Errorf("%d calls", n)
	}
}

// VB for Azure takes the MFA step on the mfa_token alone: the reference
// promises the token, not the mfa_enabled flag beside it.
func TestVBAzureMFAWithoutFlag(t *testing.T) {
	em, h, _ := productHome(t, emulator.Options{Product: "vbazure", MFAFlagOmitted: true}, "mfa-admin", func(p *testenv.Profile) {
		p.MFACodeCommand = []string{"sh", "-c", "echo 135790"}
	})
	em.AddMFAUser("mfa-admin", ptPassword, "135790")
	r, err := get(h, false)
	if err != nil || !em.Valid(r.AccessToken) {
		t.Fatalf("%v %+v", err, r)
	}
	if n := em.Counts(); n.Grants["Password"] != 1 || n.Grants["Mfa"] != 1 {
		t.Errorf("counts %+v", n)
	}
}

// A vb365 profile's api_version is the path of every call: against a
// server that serves only that version, login, refresh, an authorization
// code and logout work; the default v8 against a VB365 7 server is a
// configuration error naming api_version.
func TestVB365APIVersionPaths(t *testing.T) {
	for _, v := range []string{"v6", "v7", "v8"} {
		t.Run(v, func(t *testing.T) {
			em, h, _ := productHome(t, emulator.Options{Product: "vb365", APIVersion: v}, `corp\svc`, apiVersion(v))
			if em.TokenPath() != "/"+v+"/token" {
				t.Fatalf("emulator token path %s", em.TokenPath())
			}
			a, err := get(h, false)
			if err != nil || a.Source != helper.SourceGrant {
				t.Fatalf("grant: %v", err)
			}
			b, err := get(h, true)
			if err != nil || b.Source != helper.SourceRefresh || b.AccessToken == a.AccessToken {
				t.Fatalf("refresh: %v", err)
			}
			code, err := h.AuthCode(context.Background(), "p")
			if err != nil || !strings.HasPrefix(code, "vb365-ac-") {
				t.Fatalf("auth code: %q %v", code, err)
			}
			if err := h.Logout(context.Background(), "p", false); err != nil {
				t.Fatal(err)
			}
			n := em.Counts()
			if n.Grants["password"] != 1 || n.Grants["refresh_token"] != 1 || n.AuthCodes != 1 || n.Logouts != 1 || em.Valid(b.AccessToken) {
				t.Errorf("counts %+v", n)
			}
		})
	}
	for _, v := range []string{"v6", "v7"} {
		em, h, _ := productHome(t, emulator.Options{Product: "vb365", APIVersion: v}, `corp\svc`, nil)
		_, err := get(h, false)
		wantFailure(t, err, exitcode.Usage, "answers 404 for /v8/token", `set api_version = "v7"`)
		if n := em.Counts(); n.TokenCalls != 0 {
			t.Errorf("a server without /v8 counted %+v", n)
		}
	}
	_, h, _ := productHome(t, emulator.Options{Product: "vb365", APIVersion: "v6"}, `corp\svc`, apiVersion("v7"))
	_, err := get(h, false)
	wantFailure(t, err, exitcode.Usage, "answers 404 for /v7/token", `"v8", "v7" or "v6"`)
}

// Profiles whose url names no port get the product's REST API port, and
// status shows it.
func TestDefaultPorts(t *testing.T) {
	e := testenv.New(t)
	var ps []testenv.Profile
	for _, product := range []string{"vb365", "vbaws", "vbgcp", "vbr", "vone", "vspc", "vbazure"} {
		ps = append(ps, testenv.Profile{Name: product, Product: product, URL: "https://" + product + ".example.com", Username: "u"})
	}
	e.Profiles(ps...)
	st, err := e.Helper().Statuses()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"vb365": ":4443", "vbaws": ":11005", "vbgcp": ":13140", "vbr": ":9419", "vone": ":1239", "vspc": ":1280",
		"vbazure": "", // the appliance's web UI and REST API share 443
	}
	for _, s := range st {
		if s.URL != "https://"+s.Profile+".example.com"+want[s.Profile] {
			t.Errorf("%s: url %s, want port %q", s.Profile, s.URL, want[s.Profile])
		}
	}
	if len(st) != len(want) {
		t.Errorf("%d profiles", len(st))
	}
}
