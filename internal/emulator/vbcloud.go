package emulator

import (
	"net/http"

	"net/url"
)

// Products Veeam Backup for AWS and Veeam Backup for Google Cloud: one token
// API (REST API references helpcenter.veeam.com/docs/vbaws/rest and
// /docs/vbgc/rest: "Authorization", "Versioning"; OpenAPI tag "Token":
// POST/DELETE /api/v1/token).
//
//   - grant_type password | refresh_token | mfa, lower case (others 400);
//     x-api-version required on every call (as for vbr). Each release accepts
//     its own and a few earlier revisions ("Versioning"); one outside
//     Options.APIVersions is refused with 400 in the error shape below,
//     naming the supported revisions as vbr does.
//   - An MFA user's password step answers an mfa_token and no access token:
//     vbaws 200 {mfa_enabled:true, mfa_token}, vbgcp 202 Accepted {mfa_token}
//     (as the Google Cloud reference documents). grant_type=mfa with
//     mfa_token + mfa_code answers the pair; a wrong code is 401 and leaves
//     the mfa_token usable until it expires (Options.MFATTL).
//   - wrong username/password, bad MFA token or code, bad refresh token: 401
//     errorCode "AccessDenied" / "InvalidToken" / "ExpiredToken".
//   - DELETE /api/v1/token (Bearer): 204, the session ends.
//   - GET /api/v1/system/version is the protected resource (choice of path).
//   - Errors: problem+json {type,title,status,errorCode,details,instance,data}
//     (the references' error schema; 401 on a protected resource without a
//     live token). The references document no throttling: FailNext's 429
//     uses the same shape with a Retry-After header (choice);
//     5xx answers carry a fake stack trace with StackTraceMarker in data.exception.
//   - Default access-token lifetime: vbaws 1 h, vbgcp 15 min.
const (
	ProductVBAWS = "vbaws"
	ProductVBGCP = "vbgcp"
)

type cloudError struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	ErrorCode string         `json:"errorCode"`
	Details   string         `json:"details"`
	Instance  *string        `json:"instance"`
	Data      map[string]any `json:"data,omitempty"`
}

func writeCloudError(ns string) func(w http.ResponseWriter, status int, code, msg string) {
	return func(w http.ResponseWriter, status int, code, msg string) {
		switch code {
		case "BadRequest", "UnsupportedMediaType", "Error":
			code = "UnexpectedContent"
		case "Forbidden":
			code = "AccessDenied"
		case "TooManyRequests", "InternalServerError":
			code = "UnknownError"
		}
		var data map[string]any
		if status >= 500 {
			data = map[string]any{"exception": "System.InvalidOperationException: " + msg + "\r\n" + fakeNetStack(ns)}
		}
		writeJSON(w, status, "application/problem+json; charset=utf-8", cloudError{
			Type: problemType(status), Title: problemTitle(status), Status: status, ErrorCode: code, Details: msg, Data: data,
		})
	}
}

type cloudToken struct {
	netPair
	Username   string  `json:"username"`
	RoleName   string  `json:"roleName"`
	MFAEnabled bool    `json:"mfa_enabled"`
	MFAToken   *string `json:"mfa_token"`
}

// serveCloudToken is /api/v1/token: POST asks for tokens, DELETE logs out.
func (e *Emulator) serveCloudToken(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		if reject := e.beginVersionedGrant(w, r); reject != nil {
			e.cloudGrant(w, r.PostForm, reject)
		}
	case http.MethodDelete:
		if e.logoutVersioned(w, r) {
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		e.methodNotAllowed(w, r, "POST, DELETE")
	}
}

func (e *Emulator) cloudVersion(w http.ResponseWriter, r *http.Request) {
	if e.protectedVersioned(w, r) {
		writeOK(w, map[string]string{"version": "9.0.0.100"})
	}
}

// cloudWords are the vbaws and vbgcp refusals of a token request.
var cloudWords = grantWords{
	noLogin:    refusal{http.StatusBadRequest, "UnexpectedContent", "The username and password parameters are required for the 'password' grant type."},
	wrongLogin: refusal{http.StatusUnauthorized, "AccessDenied", "Invalid user name or password."},
	badRefresh: func(status int, msg string) refusal { return refusal{status, "InvalidToken", msg} },
	other: func(grant string) refusal {
		if grant == "authorization_code" {
			return refusal{http.StatusBadRequest, "UnexpectedContent", "The authorization code is invalid or has expired."}
		}
		return refusal{http.StatusBadRequest, "UnexpectedContent", "The value '" + grant + "' is not valid for grant_type."}
	},
}

// cloudGrant answers the token request f once beginVersionedGrant passed it.
func (e *Emulator) cloudGrant(w http.ResponseWriter, f url.Values, reject rejectFunc) {
	grant := f.Get("grant_type")
	var tok issued
	switch grant {
	case "password":
		id, ok := e.login(f.Get("username"), f.Get("password"), reject, cloudWords.noLogin, cloudWords.wrongLogin)
		if !ok {
			return
		}
		if id.mfaCode != "" {
			// The Google Cloud reference documents 202 Accepted for this step.
			status, body := http.StatusOK, cloudToken{Username: id.name, RoleName: "PortalAdmin", MFAEnabled: true, MFAToken: ptr(e.startMFA(id, grant))}
			if e.opts.Product == ProductVBGCP {
				status = http.StatusAccepted
			}
			writeJSON(w, status, "application/json; charset=utf-8", body)
			return
		}
		tok = e.openSession(grant, newSession(id.name))
	case "mfa":
		mt, code := f.Get("mfa_token"), f.Get("mfa_code")
		if mt == "" || code == "" {
			reject(http.StatusBadRequest, "UnexpectedContent", "The mfa_token and mfa_code parameters are required for the 'mfa' grant type.")
			return
		}
		var msg string
		if tok, msg = e.finishMFA(mt, code, grant, false); msg != "" {
			reject(http.StatusUnauthorized, "AccessDenied", msg)
			return
		}
	default:
		var ok bool
		if tok, ok = e.passwordOrRefresh(f, grant, reject, cloudWords); !ok {
			return
		}
	}
	writeToken(w, cloudToken{netPair: pairOf(tok), Username: tok.s.user, RoleName: "PortalAdmin"})
}
