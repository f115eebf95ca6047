package helper

import (
	"slices"
	"testing"
)

// The servers' own sentences for an API version they refuse, and error
// bodies that are not about versions.
func TestUnsupportedVersion(t *testing.T) {
	for _, tc := range []struct {
		body  string
		ok    bool
		named []string
	}{
		{`{"errorCode":"NotImplemented","message":"Unsupported RESTAPI version. The following versions are supported: v1.0-rev1."}`, true, []string{"1.0-rev1"}},
		{`{"errorCode":"BadRequest","message":"Unsupported RESTAPI version. The following versions are supported: v1.0-rev1, v1.0-rev2, v1.1-rev0, v1.1-rev1, v1.1-rev2"}`, true, []string{"1.0-rev1", "1.0-rev2", "1.1-rev0", "1.1-rev1", "1.1-rev2"}},
		{`{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"Bad Request","status":400,"errorCode":"NotImplemented","details":"Unsupported RESTAPI version. The following versions are supported: 1.5-rev0,1.6-rev0.","instance":null}`, true, []string{"1.5-rev0", "1.6-rev0"}},
		{`{"error":{"code":"UnsupportedApiVersion","message":"The HTTP resource that matches the request URI 'https://vspc:1280/api/v3/about' is not supported.","innerError":null}}`, true, nil},
		{`{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"Bad Request","status":400,"detail":"The HTTP resource that matches the request URI '/api/oauth2/token' does not support the API version '4.0'.","traceId":"00-1","errors":{}}`, true, nil},
		{`{"title":"Bad Request","status":400,"detail":"An API version is required, but was not specified.","errors":{}}`, true, nil},
		{`{"errorCode":"UnexpectedContent","message":"The x-api-version header must be in the <version>-<revision> format."}`, true, nil},
		{`{"errorCode":"AccessDenied","message":"Invalid username or password."}`, false, nil},
		{`{"error":"invalid_grant","error_description":"Invalid user name or password."}`, false, nil},
		{`{"message":"The version 1.2-rev0 of the license is invalid.","errorCode":"BadRequest","stackTrace":"at Unsupported RESTAPI version"}`, false, nil},
		{`not json`, false, nil},
	} {
		named, ok := unsupportedVersion([]byte(tc.body))
		if ok != tc.ok || !slices.Equal(named, tc.named) {
			t.Errorf("%s: %v %v, want %v %v", tc.body, ok, named, tc.ok, tc.named)
		}
	}
}

func TestNewestRevision(t *testing.T) {
	for _, tc := range []struct {
		revs       []string
		sent, want string
	}{
		{[]string{"1.0-rev1", "1.10-rev0", "1.9-rev3"}, "1.1-rev0", "1.10-rev0"},
		{[]string{"1.5-rev1", "1.5-rev0"}, "1.5-rev1", "1.5-rev0"},
		{[]string{"1.5-rev1"}, "1.5-rev1", ""},
		{nil, "1.1-rev0", ""},
	} {
		if got := newestRevision(tc.revs, tc.sent); got != tc.want {
			t.Errorf("newestRevision(%v, %s) = %q, want %q", tc.revs, tc.sent, got, tc.want)
		}
	}
}

// The OAuth 2.0 error of VSPC's token endpoint and ASP.NET's nested error
// object are quoted like the other shapes.
func TestServerSaysOAuthAndNested(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":"invalid_grant","error_description":"Invalid user name or password."}`: ": Invalid user name or password.",
		`{"error":"invalid_grant"}`: ": invalid_grant",
		`{"error":{"code":"UnsupportedApiVersion","message":"The HTTP resource is not supported.","innerError":null}}`: ": The HTTP resource is not supported. (UnsupportedApiVersion)",
		`{"errors":[{"type":"transport","code":429,"retryAfter":25}]}`:                                                 ": transport error",
	} {
		if got := serverSays([]byte(body)); got != want {
			t.Errorf("serverSays(%s) = %q, want %q", body, got, want)
		}
	}
	if got := bodyRetryAfter([]byte(`{"errors":[{"type":"transport","code":429,"retryAfter":25}]}`)); got != "25" {
		t.Errorf("bodyRetryAfter = %q", got)
	}
}
