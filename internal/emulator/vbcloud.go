package emulator

import "net/http"

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
	AccessToken  *string `json:"access_token"`
	TokenType    *string `json:"token_type"`
	RefreshToken *string `json:"refresh_token"`
	ExpiresIn    int     `json:"expires_in"`
	Issued       *string `json:".issued"`
	Expires      *string `json:".expires"`
	Username     string  `json:"username"`
	RoleName     string  `json:"roleName"`
	MFAEnabled   bool    `json:"mfa_enabled"`
	MFAToken     *string `json:"mfa_token"`
}

func (e *Emulator) serveVBCloud(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "/api/v1/token":
		switch r.Method {
		case http.MethodPost:
			e.cloudGrant(w, r)
		case http.MethodDelete:
			if e.logoutVersioned(w, r) {
				w.WriteHeader(http.StatusNoContent)
			}
		default:
			e.methodNotAllowed(w, r, "POST, DELETE")
		}
	case "/api/v1/system/version":
		if !e.protectedVersioned(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, "application/json; charset=utf-8", map[string]string{"version": "9.0.0.100"})
	default:
		e.writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.")
	}
}

func (e *Emulator) cloudGrant(w http.ResponseWriter, r *http.Request) {
	reject := e.beginVersionedGrant(w, r)
	if reject == nil {
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	var tok issued
	switch grant {
	case "password":
		user, pass := f.Get("username"), f.Get("password")
		if user == "" || pass == "" {
			reject(http.StatusBadRequest, "UnexpectedContent", "The username and password parameters are required for the 'password' grant type.")
			return
		}
		id, ok := e.checkPassword(user, pass)
		if !ok {
			reject(http.StatusUnauthorized, "AccessDenied", "Invalid user name or password.")
			return
		}
		if id.mfaCode != "" {
			mt := e.startMFA(id, grant)
			status, body := http.StatusOK, cloudToken{Username: id.name, RoleName: "PortalAdmin", MFAEnabled: true, MFAToken: ptr(mt)}
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
	case "refresh_token":
		var ok bool
		if tok, ok = e.rotate(f.Get("refresh_token"), grant, func(status int, msg string) {
			reject(status, "InvalidToken", msg)
		}); !ok {
			return
		}
	case "authorization_code":
		reject(http.StatusBadRequest, "UnexpectedContent", "The authorization code is invalid or has expired.")
		return
	default:
		reject(http.StatusBadRequest, "UnexpectedContent", "The value '"+grant+"' is not valid for grant_type.")
		return
	}
	writeToken(w, cloudToken{
		AccessToken: ptr(tok.access), TokenType: ptr("bearer"), RefreshToken: ptr(tok.refresh), ExpiresIn: tok.expiresIn,
		Issued: ptr(netTime(tok.issuedAt)), Expires: ptr(netTime(tok.expiresAt)), Username: tok.s.user, RoleName: "PortalAdmin",
	})
}
