package emulator

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ProductVBR is Veeam Backup & Replication.
//
// vbr model (REST API reference, helpcenter.veeam.com/docs/backup/vbr_rest:
// "Login", "Versioning"; choices where it is silent are marked):
//
//   - POST /api/oauth2/token, form, grant_type password | refresh_token (exact
//     lower case; other values 400). authorization_code and vbr_token answer 400
//     "not enabled" (choice).
//   - Every call needs x-api-version "<version>-<revision>"; a missing or
//     malformed one is 400 errorCode "UnexpectedContent" (choice of code). A
//     revision the server does not support (Options.APIVersions) is 400
//     {"errorCode":"NotImplemented","message":"Unsupported RESTAPI version.
//     The following versions are supported: v1.1-rev0, …"}, the answer VBR
//     gives (quoted in public bug reports against its REST API).
//   - wrong username/password: 401 errorCode "AccessDenied"; an unknown, used,
//     revoked or expired refresh token: 401 "InvalidToken" (a used one counts
//     RefreshReuse); missing fields: 400 "UnexpectedContent".
//   - POST /api/oauth2/logout (Bearer): 200 {} and the session's tokens die.
//   - GET /api/v1/serverTime is the protected resource (Bearer + x-api-version).
//   - Errors {"errorCode","message","resourceId"} (no stack trace in this shape).
//   - Default access-token lifetime 15 minutes (12.0–12.2; 60 since 12.3).
const ProductVBR = "vbr"

type vbrError struct {
	ErrorCode  string  `json:"errorCode"`
	Message    string  `json:"message"`
	ResourceID *string `json:"resourceId"`
}

func writeVBRError(w http.ResponseWriter, status int, code, msg string) {
	switch code {
	case "BadRequest", "UnsupportedMediaType":
		code = "UnexpectedContent"
	case "Forbidden":
		code = "AccessDenied"
	case "TooManyRequests", "InternalServerError", "Error":
		code = "UnknownError"
	}
	writeJSON(w, status, "application/json; charset=utf-8", vbrError{ErrorCode: code, Message: msg})
}

var apiVersionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+-rev[0-9]+$`)

// xAPIVersionOK checks the x-api-version header of vbr, vbaws and vbgcp
// calls; code is the errorCode of the refusal.
func (e *Emulator) xAPIVersionOK(r *http.Request) (ok bool, code, msg string) {
	got := r.Header.Get("x-api-version")
	switch {
	case got == "":
		return false, "BadRequest", "The x-api-version header is required."
	case !apiVersionRe.MatchString(got):
		return false, "BadRequest", "The x-api-version header must be in the <version>-<revision> format."
	case len(e.opts.APIVersions) > 0 && !slices.Contains(e.opts.APIVersions, got):
		named := make([]string, len(e.opts.APIVersions))
		for i, v := range e.opts.APIVersions {
			named[i] = "v" + v
		}
		return false, "NotImplemented", "Unsupported RESTAPI version. The following versions are supported: " + strings.Join(named, ", ") + "."
	}
	return true, "", ""
}

// logoutVersioned is logout for products that also check x-api-version
// (vbr, vbaws, vbgcp).
func (e *Emulator) logoutVersioned(w http.ResponseWriter, r *http.Request) bool {
	if ok, code, msg := e.xAPIVersionOK(r); !ok {
		e.writeError(w, http.StatusBadRequest, code, msg)
		return false
	}
	return e.logout(w, r)
}

// beginVersionedGrant is beginGrant plus the x-api-version check of vbr,
// vbaws and vbgcp. It returns the call's reject (rejecter with a Bearer
// challenge), or nil when the call was answered.
func (e *Emulator) beginVersionedGrant(w http.ResponseWriter, r *http.Request) rejectFunc {
	if !e.beginGrant(w, r) {
		return nil
	}
	reject := e.rejecter(w, r.PostForm.Get("grant_type"), true)
	if ok, code, msg := e.xAPIVersionOK(r); !ok {
		reject(http.StatusBadRequest, code, msg)
		return nil
	}
	return reject
}

// protectedVersioned is protected() for products that also check x-api-version.
func (e *Emulator) protectedVersioned(w http.ResponseWriter, r *http.Request) bool {
	if ok, code, msg := e.xAPIVersionOK(r); !ok && r.Method == http.MethodGet {
		e.mu.Lock()
		e.counts.ProtectedDenied++
		e.mu.Unlock()
		e.writeError(w, http.StatusBadRequest, code, msg)
		return false
	}
	return e.protected(w, r)
}

func (e *Emulator) vbrLogout(w http.ResponseWriter, r *http.Request) {
	if e.logoutVersioned(w, r) {
		writeOK(w, struct{}{})
	}
}

func (e *Emulator) vbrServerTime(w http.ResponseWriter, r *http.Request) {
	if e.protectedVersioned(w, r) {
		writeOK(w, map[string]string{"serverTime": time.Now().Format(time.RFC3339), "timeZone": "(UTC) Coordinated Universal Time"})
	}
}

type oauthToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Issued       string `json:".issued"`
	Expires      string `json:".expires"`
}

// vbrWords are vbr's refusals of a token request.
var vbrWords = grantWords{
	noLogin:    refusal{http.StatusBadRequest, "UnexpectedContent", "The username and password parameters are required for the password grant type."},
	wrongLogin: refusal{http.StatusUnauthorized, "AccessDenied", "Invalid username or password."},
	badRefresh: func(status int, msg string) refusal {
		if strings.Contains(msg, "expired") {
			return refusal{status, "ExpiredToken", msg}
		}
		return refusal{status, "InvalidToken", msg}
	},
	other: func(grant string) refusal {
		switch grant {
		case "authorization_code", "vbr_token":
			return refusal{http.StatusBadRequest, "UnexpectedContent", "The grant type '" + grant + "' is not enabled on this server."}
		case "":
			return refusal{http.StatusBadRequest, "UnexpectedContent", "The grant_type parameter is required."}
		}
		return refusal{http.StatusBadRequest, "UnexpectedContent", "The value '" + grant + "' is not valid for grant_type."}
	},
}

func (e *Emulator) vbrGrant(w http.ResponseWriter, r *http.Request) {
	reject := e.beginVersionedGrant(w, r)
	if reject == nil {
		return
	}
	tok, ok := e.passwordOrRefresh(r.PostForm, r.PostForm.Get("grant_type"), reject, vbrWords)
	if ok {
		writeToken(w, oauthToken{
			AccessToken: tok.access, TokenType: "bearer", RefreshToken: tok.refresh, ExpiresIn: tok.expiresIn,
			Issued: tok.issuedAt.Format("2006-01-02T15:04:05-07:00"), Expires: tok.expiresAt.Format("2006-01-02T15:04:05-07:00"),
		})
	}
}
