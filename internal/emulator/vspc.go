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

func (e *Emulator) serveVSPC(w http.ResponseWriter, r *http.Request, p string) {
	switch {
	case p == "/api/v3/token":
		if r.Method != http.MethodPost {
			e.methodNotAllowed(w, r, "POST")
			return
		}
		e.vspcGrant(w, r)
	case p == "/api/v3/about":
		if r.Method != http.MethodGet {
			e.methodNotAllowed(w, r, "GET")
			return
		}
		e.mu.Lock()
		e.lastProtected = r.Header.Clone()
		e.mu.Unlock()
		if !e.authorize(w, r, e.apiKeyLocked) {
			return
		}
		writeJSON(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{
			"meta": map[string]any{}, "data": map[string]string{"installationId": "2d1fa3c1-7e6c-4f1e-9a53-5a0d1c3f7b10", "serverVersion": "9.1.0.30713"},
		})
	case strings.HasPrefix(p, "/api/v3/users/") && strings.HasSuffix(p, "/tokens"):
		if r.Method != http.MethodDelete {
			e.methodNotAllowed(w, r, "DELETE")
			return
		}
		uid := strings.TrimSuffix(strings.TrimPrefix(p, "/api/v3/users/"), "/tokens")
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
		writeJSON(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{"meta": map[string]any{}, "data": true})
	default:
		writeVSPCError(w, http.StatusNotFound, "", "The requested resource was not found.")
	}
}

func (e *Emulator) vspcGrant(w http.ResponseWriter, r *http.Request) {
	if !e.beginGrant(w, r) {
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	reject := func(code, msg string) {
		e.failGrant(grant)
		writeJSON(w, http.StatusBadRequest, "application/json; charset=utf-8", map[string]string{"error": code, "error_description": msg})
	}
	var tok issued
	switch grant {
	case "password":
		user, pass := f.Get("username"), f.Get("password")
		if user == "" || pass == "" {
			reject("invalid_request", "The username and password parameters are required.")
			return
		}
		id, ok := e.checkPassword(user, pass)
		if !ok {
			reject("invalid_grant", "Invalid user name or password.")
			return
		}
		tok = e.openSession(grant, newSession(id.name))
	case "refresh_token":
		var ok bool
		if tok, ok = e.rotate(f.Get("refresh_token"), grant, func(status int, msg string) {
			code := "invalid_grant"
			if status == http.StatusBadRequest {
				code = "invalid_request"
			}
			reject(code, msg)
		}); !ok {
			return
		}
	case "":
		reject("invalid_request", "The grant_type parameter is required.")
		return
	default:
		reject("unsupported_grant_type", "The value '"+grant+"' is not valid for grant_type.")
		return
	}
	writeToken(w, map[string]any{
		"access_token": tok.access, "token_type": "bearer", "refresh_token": tok.refresh, "expires_in": tok.expiresIn,
	})
}
