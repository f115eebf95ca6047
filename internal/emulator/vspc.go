package emulator

import (
	"net/http"
	"strconv"
	"strings"
)

// ProductVSPC is Veeam Service Provider Console REST API v3 ("OAuth 2.0
// Authentication", "API Key-Based Authorization", "Errors", "Throttling").
//
//   - POST /api/v3/token, form, grant_type password | refresh_token (lower
//     case); answers {access_token, token_type:"bearer", refresh_token,
//     expires_in}. The token endpoint is an OAuth 2.0 server ("OAuth 2.0
//     Authentication") and refuses a grant the OAuth 2.0 way (RFC 6749,
//     section 5.2): 400 {"error","error_description"} with invalid_grant for
//     wrong credentials and bad refresh tokens, invalid_request for missing
//     fields, unsupported_grant_type for other grants.
//   - API keys registered with AddAPIKey are accepted as Bearer tokens by the
//     protected resource; they never expire (RevokeAPIKey disables one).
//   - DELETE /api/v3/users/{userUid}/tokens (Bearer): every session of that
//     user ends (the documented emergency revocation); 200 {"data":true}.
//   - GET /api/v3/about is the protected resource (Bearer); it records the
//     X-Client-Version header (LastHeader covers token calls only).
//   - Every other error ("Errors"): {"errors":[{"message","type","code"}]},
//     e.g. 401 type "security" on a protected resource. Server errors are
//     answered with HTTP 520 (500, 501 and ≥505 become 520; the gateway
//     codes 502–504 pass as they are, as a proxy would send them); 429 puts
//     the retry hint in errors[0].retryAfter and sends no Retry-After header.
//   - Default access-token lifetime 1 hour.
const ProductVSPC = "vspc"

type vspcErrorItem struct {
	Message    string `json:"message,omitempty"`
	Type       string `json:"type"`
	Code       int    `json:"code"`
	RetryAfter int    `json:"retryAfter,omitempty"`
}

func writeVSPCError(w http.ResponseWriter, status int, _, msg string) {
	item := vspcErrorItem{Message: msg, Type: "logical", Code: status}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		item.Type = "security"
	case status == http.StatusTooManyRequests:
		item.Type, item.Message = "transport", ""
		if ra := w.Header().Get("Retry-After"); ra != "" {
			item.RetryAfter, _ = strconv.Atoi(ra)
			w.Header().Del("Retry-After")
		}
	case status >= 500:
		item.Type = "retryable"
		if status != http.StatusBadGateway && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
			status, item.Code = 520, 520
		}
	}
	writeJSON(w, status, "application/json; charset=utf-8", map[string]any{"errors": []vspcErrorItem{item}})
}

// AddAPIKey registers a vspc API key for a user name.
func (e *Emulator) AddAPIKey(username, key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.apiKeys == nil {
		e.apiKeys = map[string]identity{}
	}
	e.apiKeys[key] = identity{name: username, secret: key}
}

// RevokeAPIKey disables an API key.
func (e *Emulator) RevokeAPIKey(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.apiKeys, key)
}

// apiKeyLocked reports whether key is a registered API key.
func (e *Emulator) apiKeyLocked(key string) bool {
	_, ok := e.apiKeys[key]
	return ok
}

// LastProtectedHeader is a copy of the headers of the last protected call (vspc).
func (e *Emulator) LastProtectedHeader() http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastProtected.Clone()
}

// vspcAbout records the headers of every call, answered or not.
func (e *Emulator) vspcAbout(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.lastProtected = r.Header.Clone()
	e.mu.Unlock()
	if e.authorize(w, r, e.apiKeyLocked) {
		writeOK(w, map[string]any{
			"meta": map[string]any{}, "data": map[string]string{"installationId": "2d1fa3c1-7e6c-4f1e-9a53-5a0d1c3f7b10", "serverVersion": "9.1.0.30713"},
		})
	}
}

// vspcRevokeUser is DELETE /api/v3/users/{userUid}/tokens.
func (e *Emulator) vspcRevokeUser(w http.ResponseWriter, r *http.Request) {
	uid := strings.TrimSuffix(strings.TrimPrefix(requestPath(r), "/api/v3/users/"), "/tokens")
	e.mu.Lock()
	at := e.bearerLocked(r)
	if at != nil {
		for _, rt := range e.refresh {
			if rt.s.userID == uid && !rt.s.closed {
				e.endSessionLocked(rt.s)
			}
		}
		e.counts.Logouts++
	}
	e.mu.Unlock()
	if at == nil {
		unauthorized(w, e)
		return
	}
	writeOK(w, map[string]any{"meta": map[string]any{}, "data": true})
}

// vspcWords are the OAuth 2.0 errors (RFC 6749, section 5.2) of the vspc
// token endpoint: all 400.
var vspcWords = grantWords{
	noLogin:    refusal{http.StatusBadRequest, "invalid_request", "The username and password parameters are required."},
	wrongLogin: refusal{http.StatusBadRequest, "invalid_grant", "Invalid user name or password."},
	badRefresh: func(status int, msg string) refusal {
		if status == http.StatusBadRequest {
			return refusal{http.StatusBadRequest, "invalid_request", msg}
		}
		return refusal{http.StatusBadRequest, "invalid_grant", msg}
	},
	other: func(grant string) refusal {
		if grant == "" {
			return refusal{http.StatusBadRequest, "invalid_request", "The grant_type parameter is required."}
		}
		return refusal{http.StatusBadRequest, "unsupported_grant_type", "The value '" + grant + "' is not valid for grant_type."}
	},
}

func (e *Emulator) vspcGrant(w http.ResponseWriter, r *http.Request) {
	if !e.beginGrant(w, r) {
		return
	}
	grant := r.PostForm.Get("grant_type")
	reject := func(status int, code, msg string) {
		e.failGrant(grant)
		writeJSON(w, status, "application/json; charset=utf-8", map[string]string{"error": code, "error_description": msg})
	}
	tok, ok := e.passwordOrRefresh(r.PostForm, grant, reject, vspcWords)
	if ok {
		writeToken(w, map[string]any{
			"access_token": tok.access, "token_type": "bearer", "refresh_token": tok.refresh, "expires_in": tok.expiresIn,
		})
	}
}
