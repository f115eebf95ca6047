package protocol

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func i64(n int64) *int64 { return &n }

// Secret values used in inputs: no error message may contain them.
const (
	secretPw   = "Zq7vK2mW9xQj"
	secretMFA  = "987654"
	secretJWT  = "eyJhbGciOiJSUzI1NiJ9.WqZk3Vy.Tq8Xh"
	secretTok  = "Jh4Pw8xNq2Lr"
	secretCred = "Yb6Tz3cMv9Fk"
)

var secrets = []string{secretPw, secretMFA, secretJWT, secretTok, secretCred}

// checkWrites fails t unless write succeeds writing want, and returns it.
func checkWrites(t *testing.T, write func(w io.Writer) error, want string) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
	return b.String()
}

// checkRefuses fails t unless write fails, having written nothing, with an
// error that contains wantErr and no secret.
func checkRefuses(t *testing.T, write func(w io.Writer) error, wantErr string) {
	t.Helper()
	var b bytes.Buffer
	err := write(&b)
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("got %v, want %q", err, wantErr)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q on error", b.String())
	}
	assertNoSecret(t, err.Error())
}

func assertNoSecret(t *testing.T, msg string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error message %q contains secret %q", msg, s)
		}
	}
	// Also no fragment of a secret long enough to matter.
	for _, s := range secrets {
		for i := 0; i+4 <= len(s); i++ {
			if strings.Contains(msg, s[i:i+4]) {
				t.Errorf("error message %q contains a fragment %q of secret %q", msg, s[i:i+4], s)
				return
			}
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Request
		wantErr string // substring of the error; "" means no error
	}{
		{name: "empty", in: "", want: Request{}},
		{name: "whitespace", in: " \n\t\r\n ", want: Request{}},
		{name: "empty object", in: "{}", want: Request{}},
		{name: "empty object with whitespace", in: "\n { } \n\n", want: Request{}},
		{
			name: "all fields",
			in:   `{"profile":"prod","min_valid_seconds":300,"force_refresh":true,"password":"` + secretPw + `","mfa_code":"` + secretMFA + `","assertion":"` + secretJWT + `"}`,
			want: Request{Profile: "prod", MinValidSeconds: i64(300), ForceRefresh: true, Password: secretPw, MFACode: secretMFA, Assertion: secretJWT},
		},
		{name: "min_valid zero", in: `{"min_valid_seconds":0}`, want: Request{MinValidSeconds: i64(0)}},
		{name: "min_valid max int64", in: `{"min_valid_seconds":9223372036854775807}`, want: Request{MinValidSeconds: i64(9223372036854775807)}},
		{name: "force_refresh false", in: `{"force_refresh":false}`, want: Request{}},
		{name: "nulls are absent", in: `{"profile":null,"min_valid_seconds":null,"force_refresh":null,"password":null,"mfa_code":null,"assertion":null}`, want: Request{}},
		{name: "escapes in strings", in: `{"profile":"a\u00e9\"b","password":"p\\w\n"}`, want: Request{Profile: "aé\"b", Password: "p\\w\n"}},
		{name: "pretty printed", in: "{\n  \"profile\": \"x\",\n  \"force_refresh\": true\n}\n", want: Request{Profile: "x", ForceRefresh: true}},

		{name: "unknown field", in: `{"profile":"p","pasword":"` + secretPw + `"}`, wantErr: `unknown field "pasword"`},
		{name: "case-folded field is unknown", in: `{"Password":"` + secretPw + `"}`, wantErr: `unknown field "Password"`},
		{name: "duplicate field", in: `{"password":"a","password":"` + secretPw + `"}`, wantErr: `duplicate field "password"`},
		{name: "password wrong type", in: `{"password":12345678}`, wantErr: `field "password" must be a string`},
		{name: "password object", in: `{"password":{"v":"` + secretPw + `"}}`, wantErr: `field "password" must be a string`},
		{name: "mfa wrong type", in: `{"mfa_code":987654}`, wantErr: `field "mfa_code" must be a string`},
		{name: "assertion array", in: `{"assertion":["` + secretJWT + `"]}`, wantErr: `field "assertion" must be a string`},
		{name: "profile bool", in: `{"profile":true}`, wantErr: `field "profile" must be a string`},
		{name: "force_refresh string", in: `{"force_refresh":"true"}`, wantErr: `field "force_refresh" must be true or false`},
		{name: "min_valid negative", in: `{"min_valid_seconds":-1}`, wantErr: `non-negative integer`},
		{name: "min_valid fraction", in: `{"min_valid_seconds":1.5}`, wantErr: `non-negative integer`},
		{name: "min_valid exponent", in: `{"min_valid_seconds":1e3}`, wantErr: `non-negative integer`},
		{name: "min_valid overflow", in: `{"min_valid_seconds":9223372036854775808}`, wantErr: `non-negative integer`},
		{name: "min_valid string", in: `{"min_valid_seconds":"300"}`, wantErr: `non-negative integer`},
		{name: "trailing object", in: `{"password":"` + secretPw + `"}{"profile":"x"}`, wantErr: "after the JSON object"},
		{name: "trailing garbage", in: `{"password":"` + secretPw + `"} ` + secretPw, wantErr: "after the JSON object"},
		{name: "trailing number", in: `{} 1`, wantErr: "after the JSON object"},
		{name: "array", in: `["` + secretPw + `"]`, wantErr: "must be a JSON object"},
		{name: "null", in: `null`, wantErr: "must be a JSON object"},
		{name: "string", in: `"` + secretPw + `"`, wantErr: "must be a JSON object"},
		{name: "bare secret", in: secretPw, wantErr: "must be a JSON object"},
		{name: "truncated", in: `{"password":"` + secretPw, wantErr: "unexpected end"},
		{name: "truncated after comma", in: `{"profile":"x",`, wantErr: "unexpected end"},
		{name: "syntax error in value", in: `{"password":` + secretPw + `}`, wantErr: "malformed JSON"},
		{name: "missing colon", in: `{"password" "` + secretPw + `"}`, wantErr: "malformed JSON"},
		{name: "trailing comma", in: `{"password":"` + secretPw + `",}`, wantErr: "malformed JSON"},
		{name: "single quotes", in: `{'password':'` + secretPw + `'}`, wantErr: "malformed JSON"},
		{name: "too large", in: `{"password":"` + strings.Repeat("x", MaxInput) + `"}`, wantErr: "larger than 65536 bytes"},
		{name: "too large whitespace", in: strings.Repeat(" ", MaxInput+1), wantErr: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest(strings.NewReader(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v is not a *RequestError", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid request: ") {
				t.Errorf("error %q lacks the prefix", msg)
			}
			if !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q does not contain %q", msg, tt.wantErr)
			}
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error %q is not one line", msg)
			}
			assertNoSecret(t, msg)
			if !reflect.DeepEqual(got, Request{}) {
				t.Errorf("on error got non-zero %+v", got)
			}
		})
	}
}

func TestDecodeRequestExactlyMaxInput(t *testing.T) {
	in := `{"profile":"` + strings.Repeat("p", MaxInput-len(`{"profile":""}`)) + `"}`
	if len(in) != MaxInput {
		t.Fatalf("bad test input length %d", len(in))
	}
	got, err := DecodeRequest(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Profile) != MaxInput-len(`{"profile":""}`) {
		t.Fatalf("profile length %d", len(got.Profile))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestDecodeRequestReadError(t *testing.T) {
	_, err := DecodeRequest(errReader{})
	var re *RequestError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
	_, err = DecodeRequest(io.MultiReader(strings.NewReader("{"), errReader{}))
	if err == nil || errors.As(err, &re) {
		t.Fatalf("got %v", err)
	}
}

func TestRequestErrorMessage(t *testing.T) {
	if got := (&RequestError{Msg: "x"}).Error(); got != "invalid request: x" {
		t.Fatalf("got %q", got)
	}
}
