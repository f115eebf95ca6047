package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// vb365Error is the "Operation failure response" of the VB365 REST API
// reference (helpcenter.veeam.com/docs/vbo365/rest), the answer of every
// failure: "Request Authorization Tokens" (POST /{version}/token), "Log
// Out" (POST /{version}/token/logout, 204), "Request Authorization Code"
// (POST /{version}/token/AuthCode, {authCode}). The paths of the version
// served are the only ones: VB365 7 has no /v8 (404).
type vb365Error struct {
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
	StackTrace string `json:"stackTrace"`
}

// fakeNetStack is a long fake .NET stack trace carrying StackTraceMarker.
func fakeNetStack(ns string) string {
	frames := []string{
		ns + ".Infrastructure.Authorization.TokenProvider.ValidateGrantAsync(TokenRequest request, CancellationToken ct) in C:\\build\\" + StackTraceMarker + "\\src\\Authorization\\TokenProvider.cs:line 214",
		ns + ".Infrastructure.Authorization.TokenProvider.GrantAsync(TokenRequest request, CancellationToken ct) in C:\\build\\src\\Authorization\\TokenProvider.cs:line 97",
		ns + ".Controllers.TokenController.Post(TokenRequest request) in C:\\build\\src\\Controllers\\TokenController.cs:line 58",
		"lambda_method12(Closure, Object)",
		"Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.TaskOfActionResultExecutor.Execute(ActionContext actionContext, IActionResultTypeMapper mapper, ObjectMethodExecutor executor, Object controller, Object[] arguments)",
		"Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.<InvokeActionMethodAsync>g__Logged|12_1(ControllerActionInvoker invoker)",
		"Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.<InvokeNextActionFilterAsync>g__Awaited|10_0(ControllerActionInvoker invoker, Task lastTask, State next, Scope scope, Object state, Boolean isCompleted)",
		"Microsoft.AspNetCore.Mvc.Infrastructure.ResourceInvoker.<InvokeFilterPipelineAsync>g__Awaited|20_0(ResourceInvoker invoker, Task lastTask, State next, Scope scope, Object state, Boolean isCompleted)",
		"Microsoft.AspNetCore.Routing.EndpointMiddleware.<Invoke>g__AwaitRequestTask|7_0(Endpoint endpoint, Task requestTask, ILogger logger)",
		"Microsoft.AspNetCore.Authorization.AuthorizationMiddleware.Invoke(HttpContext context)",
		"Microsoft.AspNetCore.Authentication.AuthenticationMiddleware.Invoke(HttpContext context)",
	}
	return "   at " + strings.Join(frames, "\r\n   at ")
}

func writeJSON(w http.ResponseWriter, status int, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeVB365Error(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, "application/json; charset=utf-8", vb365Error{Message: msg, ErrorCode: code, StackTrace: fakeNetStack("Veeam.Archiver.REST")})
}

type vb365Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	UserName     string `json:"userName"`
	Issued       string `json:".issued"`
	Expires      string `json:".expires"`
}

// versionedPath puts a vb365 path ("/v8/…" in productSpec) under the version served.
func (e *Emulator) versionedPath(p string) string {
	if e.opts.Product != ProductVB365 {
		return p
	}
	return "/" + e.opts.APIVersion + strings.TrimPrefix(p, "/v8")
}

func (e *Emulator) vb365Logout(w http.ResponseWriter, r *http.Request) {
	if e.logout(w, r) {
		w.WriteHeader(http.StatusNoContent)
	}
}

func (e *Emulator) vb365AuthCode(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	at := e.bearerLocked(r)
	if at != nil {
		e.counts.AuthCodes++
	}
	e.mu.Unlock()
	if at == nil {
		unauthorized(w, e)
		return
	}
	writeOK(w, map[string]string{"authCode": randomToken(e.prefix("ac"))})
}

func (e *Emulator) vb365Organizations(w http.ResponseWriter, r *http.Request) {
	if e.protected(w, r) {
		writeOK(w, []map[string]any{{
			"id": "4b7e2b61-2c1d-4f0e-9a7b-1d2f3c4b5a60", "name": "contoso.onmicrosoft.com", "type": "Office365",
			"region": "Worldwide", "isBackedup": true, "_links": map[string]any{"self": map[string]string{"href": "/" + e.opts.APIVersion + "/Organizations/4b7e2b61-2c1d-4f0e-9a7b-1d2f3c4b5a60"}},
		}})
	}
}

// The grant types of the VB365 token endpoint.
const (
	vb365GrantPassword = "password"
	vb365GrantRefresh  = "refresh_token"
	vb365GrantJWT      = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	vb365GrantOperator = "operator"
)

func (e *Emulator) vb365Grant(w http.ResponseWriter, r *http.Request) {
	if !e.beginGrant(w, r) {
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	reject := e.rejecter(w, grant, false)
	disableAF := strings.EqualFold(strings.TrimSpace(f.Get("disable_antiforgery_token")), "true")

	var sess *session
	switch grant {
	case vb365GrantPassword:
		id, ok := e.login(f.Get("username"), f.Get("password"), reject,
			refusal{http.StatusBadRequest, "BadRequest", "The username and password parameters are required for the password grant."},
			refusal{http.StatusBadRequest, "AccessDenied", "Invalid username or password."})
		if !ok {
			return
		}
		sess = newSession(id.name)
	case vb365GrantJWT, vb365GrantOperator:
		cid, assertion := f.Get("client_id"), f.Get("assertion")
		if cid == "" || assertion == "" {
			reject(http.StatusBadRequest, "BadRequest", "The client_id and assertion parameters are required for the "+grant+" grant.")
			return
		}
		name := cid
		if grant == vb365GrantOperator {
			u, t, ok := strings.Cut(cid, ".")
			if !ok || u == "" || t == "" || strings.Contains(t, ".") {
				reject(http.StatusBadRequest, "BadRequest", "The client_id parameter must be in the userId.tenantId format.")
				return
			}
			name = u
		}
		e.mu.Lock()
		reg := e.jwtClients
		if grant == vb365GrantOperator {
			reg = e.operators
		}
		id, ok := reg[cid]
		e.mu.Unlock()
		if !ok || id.secret != assertion {
			reject(http.StatusBadRequest, "AccessDenied", "The assertion is invalid or the client is not authorized.")
			return
		}
		sess = &session{user: name, userID: userID(cid)}
	case vb365GrantRefresh:
		e.vb365Refresh(w, r, grant, reject)
		return
	case "":
		reject(http.StatusBadRequest, "BadRequest", "The grant_type parameter is required.")
		return
	default:
		reject(http.StatusBadRequest, "BadRequest", "Unsupported grant type '"+grant+"'.")
		return
	}

	sess.antiforgery = !disableAF
	e.writeVB365Token(w, e.openSession(grant, sess))
}

func (e *Emulator) vb365Refresh(w http.ResponseWriter, r *http.Request, grant string, reject rejectFunc) {
	rt := r.PostForm.Get("refresh_token")
	if rt == "" {
		reject(http.StatusBadRequest, "BadRequest", "The refresh_token parameter is required for the refresh_token grant.")
		return
	}
	tok, err := e.refreshSession(rt, grant, func(s *session) error { // under e.mu
		if !s.antiforgery {
			return nil
		}
		c, cerr := r.Cookie(AntiforgeryCookieName)
		if cerr != nil || c.Value != s.cookie {
			e.counts.AntiforgeryRejects++
			return errNoCookie
		}
		return nil
	})
	switch {
	case err == errNoCookie:
		reject(http.StatusBadRequest, "AntiforgeryValidationFailed", "The required antiforgery cookie \""+AntiforgeryCookieName+"\" is not present.")
	case err != nil:
		reject(http.StatusUnauthorized, "AccessDenied", err.Error())
	default:
		e.writeVB365Token(w, tok)
	}
}

func (e *Emulator) writeVB365Token(w http.ResponseWriter, tok issued) {
	if tok.s.antiforgery {
		c := &http.Cookie{Name: AntiforgeryCookieName, Value: tok.s.cookie, Path: "/", HttpOnly: true,
			Secure: e.opts.TLS, SameSite: http.SameSiteStrictMode}
		http.SetCookie(w, c)
	}
	writeToken(w, vb365Token{
		AccessToken: tok.access, RefreshToken: tok.refresh, TokenType: "bearer", ExpiresIn: tok.expiresIn,
		UserName: tok.s.user, Issued: netTime(tok.issuedAt), Expires: netTime(tok.expiresAt),
	})
}
