package helper

import "testing"

// TestServerSays covers every product's error shape: the human text is
// quoted on one line, the stack trace never.
func TestServerSays(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"vb365", `{"message":"Invalid username or password","errorCode":"AccessDenied","stackTrace":"at Veeam.X()\n at Y"}`, ": Invalid username or password (AccessDenied)"},
		{"problem+json", `{"type":"t","title":"Unauthorized","status":401,"detail":"Wrong MFA code","traceId":"00-1"}`, ": Wrong MFA code"},
		{"problem+json title only", `{"type":"t","title":"Bad Request","status":400}`, ": Bad Request"},
		{"vbaws details", `{"type":"t","title":"Unauthorized","status":401,"errorCode":"InvalidCredentials","details":"The user name or password is incorrect"}`, ": The user name or password is incorrect (InvalidCredentials)"},
		{"vspc errors[]", `{"meta":null,"data":null,"errors":[{"message":"Incorrect credentials","type":"security","code":1000}]}`, ": Incorrect credentials"},
		{"vspc errors[] type only", `{"errors":[{"type":"security","code":1000}]}`, ": security error"},
		{"vbazure errors object", `{"title":"Validation failed","errors":{"username":["required"]}}`, ": Validation failed"},
		{"vbr", `{"errorCode":"Unauthorized","message":"Login failed","resourceId":null}`, ": Login failed (Unauthorized)"},
		{"html", `<html><body>Proxy error</body></html>`, ""},
		{"stack trace only", `{"stackTrace":"at Veeam.X()"}`, ""},
		{"multi-line message", "{\"message\":\"line one\\nline two\"}", ": line one line two"},
	}
	for _, tc := range cases {
		if got := serverSays([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: serverSays = %q, want %q", tc.name, got, tc.want)
		}
	}
}
