package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
)

// problem is the error answer of the VB for Azure REST API reference
// (helpcenter.veeam.com/docs/vbazure/rest): "Request Authorization Tokens"
// and "Logout" document 400 and 401 answers in application/problem+json
// {type,title,status,detail,traceId,errors}.
type problem struct {
	Type    string         `json:"type"`
	Title   string         `json:"title"`
	Status  int            `json:"status"`
	Detail  string         `json:"detail"`
	TraceID string         `json:"traceId"`
	Errors  map[string]any `json:"errors"`
}

func problemType(status int) string {
	switch status {
	case 400:
		return "https://tools.ietf.org/html/rfc7231#section-6.5.1"
	case 401:
		return "https://tools.ietf.org/html/rfc7235#section-3.1"
	case 403:
		return "https://tools.ietf.org/html/rfc7231#section-6.5.3"
	case 404:
		return "https://tools.ietf.org/html/rfc7231#section-6.5.4"
	case 405:
		return "https://tools.ietf.org/html/rfc7231#section-6.5.5"
	case 415:
		return "https://tools.ietf.org/html/rfc7231#section-6.5.13"
	case 429:
		return "https://tools.ietf.org/html/rfc6585#section-4"
	case 503:
		return "https://tools.ietf.org/html/rfc7231#section-6.6.4"
	}
	return "https://tools.ietf.org/html/rfc7231#section-6.6.1"
}

// problemTitle is the title member of a problem+json answer.
func problemTitle(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

func traceID() string {
	b := make([]byte, 24)
	rand.Read(b)
	x := hex.EncodeToString(b)
	return "00-" + x[:32] + "-" + x[32:48] + "-00"
}

func writeAzureError(w http.ResponseWriter, status int, _, msg string) {
	writeProblem(w, status, msg, nil)
}

// writeProblem answers application/problem+json; 5xx answers carry a fake
// stack trace with StackTraceMarker in errors.exception.
func writeProblem(w http.ResponseWriter, status int, detail string, errs map[string]any) {
	if errs == nil {
		errs = map[string]any{}
	}
	if status >= 500 {
		errs["exception"] = []string{"System.InvalidOperationException: " + detail + "\r\n" + fakeNetStack("Veeam.Azure.REST")}
	}
	writeJSON(w, status, "application/problem+json; charset=utf-8", problem{
		Type: problemType(status), Title: problemTitle(status), Status: status, Detail: detail, TraceID: traceID(), Errors: errs,
	})
}

// netPair is the token pair as the .NET products (vbaws, vbgcp, vbazure)
// answer it; its members are null in the answer of an MFA password step.
type netPair struct {
	AccessToken  *string `json:"access_token"`
	TokenType    *string `json:"token_type"`
	RefreshToken *string `json:"refresh_token"`
	ExpiresIn    int     `json:"expires_in"`
	Issued       *string `json:".issued"`
	Expires      *string `json:".expires"`
}

func pairOf(tok issued) netPair {
	return netPair{
		AccessToken: ptr(tok.access), TokenType: ptr("bearer"), RefreshToken: ptr(tok.refresh), ExpiresIn: tok.expiresIn,
		Issued: ptr(netTime(tok.issuedAt)), Expires: ptr(netTime(tok.expiresAt)),
	}
}

type azureToken struct {
	netPair
	UserID          string  `json:"userId"`
	Username        string  `json:"username"`
	RoleName        string  `json:"roleName"`
	UserType        string  `json:"userType"`
	LatestNewsShown bool    `json:"latestNewsShown"`
	MFAEnabled      bool    `json:"mfa_enabled"`
	MFAToken        *string `json:"mfa_token"`
	RedirectTo      *string `json:"redirectTo"`
	ShortLived      bool    `json:"shortLived"`
}

func ptr(s string) *string { return &s }

// apiVersionOK checks Options.RequireAPIVersion (query key case-insensitive),
// the api-version query parameter of older versions, answering the way
// ASP.NET API versioning does ("does not support the API version").
func (e *Emulator) apiVersionOK(r *http.Request) (ok bool, detail string) {
	want := e.opts.RequireAPIVersion
	if want == "" {
		return true, ""
	}
	got, present := "", false
	for k, vs := range r.URL.Query() {
		if strings.EqualFold(k, "api-version") && len(vs) > 0 {
			got, present = vs[0], true
		}
	}
	switch {
	case !present || got == "":
		return false, "An API version is required, but was not specified."
	case got != want:
		return false, "The HTTP resource that matches the request URI '" + r.URL.Path + "' does not support the API version '" + got + "'."
	}
	return true, ""
}

// serveAzureToken is /api/oauth2/token: POST asks for tokens, DELETE logs
// out; another method is refused in ASP.NET's words.
func (e *Emulator) serveAzureToken(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		e.azureGrant(w, r)
	case http.MethodDelete:
		e.azureLogout(w, r)
	default:
		w.Header().Set("Allow", "POST, DELETE")
		writeProblem(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed.", nil)
	}
}

func (e *Emulator) azureAbout(w http.ResponseWriter, r *http.Request) {
	if e.protected(w, r) {
		writeOK(w, map[string]any{
			"serverVersion": "7.1.0.62", "workerVersion": "7.1.0.62", "flrVersion": "7.1.0.62", "azureEnvironment": "Global",
		})
	}
}

func (e *Emulator) azureLogout(w http.ResponseWriter, r *http.Request) {
	if ok, detail := e.apiVersionOK(r); !ok {
		writeProblem(w, http.StatusBadRequest, detail, nil)
		return
	}
	if e.logout(w, r) {
		w.WriteHeader(http.StatusNoContent)
	}
}

func (e *Emulator) azureGrant(w http.ResponseWriter, r *http.Request) {
	if !e.beginGrant(w, r) {
		return
	}
	// Field names are case-insensitive on this server: first non-empty value wins.
	f := map[string]string{}
	for k, vs := range r.PostForm {
		lk := strings.ToLower(k)
		if len(vs) > 0 && vs[0] != "" && f[lk] == "" {
			f[lk] = vs[0]
		}
	}
	grant := f["grant_type"]
	rejectAs := e.rejecter(w, grant, true)
	reject := func(status int, detail string) { rejectAs(status, "", detail) }
	if ok, detail := e.apiVersionOK(r); !ok {
		reject(http.StatusBadRequest, detail)
		return
	}
	shortLived := strings.EqualFold(f["short_lived_refresh_token"], "true")

	switch strings.ToLower(grant) {
	case "password", "": // grant_type is optional in the archived docs; Password is the default
		id, ok := e.login(f["username"], f["password"], rejectAs,
			refusal{http.StatusBadRequest, "", "The Username and Password fields are required."},
			refusal{http.StatusUnauthorized, "", "Invalid username or password."})
		if !ok {
			return
		}
		if id.mfaCode != "" {
			mt := e.startMFA(id, grant)
			body := azureToken{
				UserID: userID(id.name), Username: id.name, RoleName: "PortalAdmin", UserType: "Internal",
				MFAEnabled: true, MFAToken: ptr(mt),
			}
			if e.opts.MFAFlagOmitted {
				writeJSON(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{
					"userId": body.UserID, "username": body.Username, "mfa_token": mt,
				})
				return
			}
			writeJSON(w, http.StatusOK, "application/json; charset=utf-8", body)
			return
		}
		s := newSession(id.name)
		s.shortLived = shortLived
		e.writeAzureToken(w, e.openSession(grant, s))
	case "mfa":
		mt, code := f["mfa_token"], f["mfa_code"]
		if mt == "" || code == "" {
			reject(http.StatusBadRequest, "The mfa_token and mfa_code fields are required.")
			return
		}
		tok, detail := e.finishMFA(mt, code, grant, shortLived)
		if detail != "" {
			reject(http.StatusUnauthorized, detail)
			return
		}
		e.writeAzureToken(w, tok)
	case "refresh_token":
		rt := f["refresh_token"]
		if rt == "" {
			reject(http.StatusBadRequest, "The refresh_token field is required.")
			return
		}
		tok, err := e.refreshSession(rt, grant, nil)
		if err != nil {
			reject(http.StatusUnauthorized, err.Error())
			return
		}
		e.writeAzureToken(w, tok)
	case "updater_token", "saml", "ssotoken", "authentication_code":
		reject(http.StatusBadRequest, "The grant type '"+grant+"' is not enabled on this server.")
	default:
		reject(http.StatusBadRequest, "The value '"+grant+"' is not valid for grant_type.")
	}
}

func (e *Emulator) writeAzureToken(w http.ResponseWriter, tok issued) {
	writeToken(w, azureToken{
		netPair: pairOf(tok), UserID: tok.s.userID, Username: tok.s.user, RoleName: "PortalAdmin", UserType: "Internal",
		LatestNewsShown: true, ShortLived: tok.s.shortLived,
	})
}
