package emulator

import "net/http"

// ProductVONE is Veeam ONE (REST API reference, helpcenter.veeam.com/docs/one/rest:
// "Authorization and Security"; tag "Authentication": POST /api/token, POST
// /api/revoke).
//
//   - POST /api/token, form, grant_type password (the default when omitted,
//     counted under "password") | refresh_token. Answers {access_token,
//     refresh_token, token_type:"Bearer", expires_in, user, user_role}, where
//     expires_in is one second short of the lifetime (the reference's 899 for
//     15 minutes).
//   - The reference documents only 400 for the token call: wrong credentials
//     and bad refresh tokens are 400 (a used refresh token counts RefreshReuse).
//   - POST /api/revoke (Bearer), form token=<access token>: the session of that
//     token ends; 200 with no body. A missing token is 400, a bad bearer 401.
//   - GET /api/v2.2/about is the protected resource (Bearer only).
//   - Errors: problem+json {type,title,status,detail,instance}; 5xx answers add
//     an "exception" member holding a fake stack trace with StackTraceMarker.
//   - Default access-token lifetime 15 minutes.
const ProductVONE = "vone"

type voneProblem struct {
	Type      string  `json:"type"`
	Title     string  `json:"title"`
	Status    int     `json:"status"`
	Detail    string  `json:"detail"`
	Instance  *string `json:"instance"`
	Exception string  `json:"exception,omitempty"`
}

func writeVONEError(w http.ResponseWriter, status int, _, msg string) {
	p := voneProblem{Type: problemType(status), Title: problemTitle(status), Status: status, Detail: msg}
	if status >= 500 {
		p.Exception = fakeNetStack("Veeam.MBP.Service.WebApi")
	}
	writeJSON(w, status, "application/problem+json; charset=utf-8", p)
}

type voneToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	User         string `json:"user"`
	UserRole     string `json:"user_role"`
}

func (e *Emulator) voneAbout(w http.ResponseWriter, r *http.Request) {
	if e.protected(w, r) {
		writeOK(w, map[string]string{"name": "Veeam ONE", "version": "13.0.0.5630"})
	}
}

func (e *Emulator) voneRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if r.ParseForm() != nil {
		writeVONEError(w, http.StatusBadRequest, "", "The request body could not be read.")
		return
	}
	tok := r.PostForm.Get("token")
	e.mu.Lock()
	bearer := e.bearerLocked(r)
	target := e.validLocked(tok)
	if bearer != nil && target != nil {
		e.endSessionLocked(target.s)
		e.counts.Logouts++
	}
	e.mu.Unlock()
	switch {
	case bearer == nil:
		unauthorized(w, e)
	case tok == "":
		writeVONEError(w, http.StatusBadRequest, "", "The token or UserSid parameter is required.")
	case target == nil:
		writeVONEError(w, http.StatusBadRequest, "", "The token is invalid or has already been revoked.")
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// voneWords are Veeam ONE's refusals of a token request: all 400, the one
// status its reference documents for the token call.
var voneWords = grantWords{
	wrongLogin: refusal{http.StatusBadRequest, "", "Invalid user name or password."},
	badRefresh: func(_ int, msg string) refusal { return refusal{http.StatusBadRequest, "", msg} },
	other: func(grant string) refusal {
		return refusal{http.StatusBadRequest, "", "The value '" + grant + "' is not valid for grant_type."}
	},
}

func (e *Emulator) voneGrant(w http.ResponseWriter, r *http.Request) {
	if !e.beginGrant(w, r) {
		return
	}
	grant := r.PostForm.Get("grant_type")
	if grant == "" {
		grant = "password"
	}
	tok, ok := e.passwordOrRefresh(r.PostForm, grant, e.rejecter(w, grant, false), voneWords)
	if ok {
		writeToken(w, voneToken{
			AccessToken: tok.access, RefreshToken: tok.refresh, TokenType: "Bearer", ExpiresIn: tok.expiresIn - 1,
			User: tok.s.user, UserRole: "Admin",
		})
	}
}
