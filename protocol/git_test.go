package protocol

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadGit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want GitRequest
	}{
		{name: "empty", in: "", want: GitRequest{}},
		{name: "blank line only", in: "\n", want: GitRequest{}},
		{
			name: "typical git 2.46+ get",
			in: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=vb365.example.com:4443\n" +
				"wwwauth[]=Bearer realm=\"veeam\"\nwwwauth[]=Basic realm=\"x\"\n\n",
			want: GitRequest{
				Protocol: "https", Host: "vb365.example.com:4443",
				Capabilities: []string{"authtype", "state"},
				WWWAuth:      []string{`Bearer realm="veeam"`, `Basic realm="x"`},
			},
		},
		{
			name: "all known keys, EOF without blank line or final newline",
			in: "protocol=https\nhost=h\npath=a/b.git\nusername=u\npassword=" + secretPw +
				"\npassword_expiry_utc=1795420800\nauthtype=Bearer\ncredential=" + secretCred,
			want: GitRequest{Protocol: "https", Host: "h", Path: "a/b.git", Username: "u", Password: secretPw,
				PasswordExpiryUTC: "1795420800", AuthType: "Bearer", Credential: secretCred},
		},
		{
			name: "CRLF line endings",
			in:   "protocol=https\r\nhost=h\r\n\r\nhost=ignored\r\n",
			want: GitRequest{Protocol: "https", Host: "h"},
		},
		{
			name: "stops at blank line",
			in:   "host=h\n\nhost=other\nnot a key value line\n",
			want: GitRequest{Host: "h"},
		},
		{
			name: "unknown keys ignored",
			in:   "protocol=https\nstate[]=helper:x\nephemeral=1\ncontinue=1\noauth_refresh_token=r\nfuture=x\n=empty key\n",
			want: GitRequest{Protocol: "https"},
		},
		{
			name: "value with '=' and spaces kept as-is",
			in:   "password= a=b \nusername=\n",
			want: GitRequest{Password: " a=b "},
		},
		{
			name: "later single value wins",
			in:   "host=a\nhost=b\n",
			want: GitRequest{Host: "b"},
		},
		{
			name: "empty multi value resets",
			in:   "capability[]=authtype\ncapability[]=\ncapability[]=state\nwwwauth[]=a\nwwwauth[]=\n",
			want: GitRequest{Capabilities: []string{"state"}},
		},
		{
			name: "url sets components",
			in:   "capability[]=authtype\nhost=old\npath=old\nurl=https://bob:" + secretPw + "@vb365.example.com:4443/repo.git/\n",
			want: GitRequest{Protocol: "https", Host: "vb365.example.com:4443", Path: "repo.git", Username: "bob",
				Password: secretPw, Capabilities: []string{"authtype"}},
		},
		{
			name: "url without path or user clears them",
			in:   "username=u\npath=p\nurl=https://h\nusername=v\n",
			want: GitRequest{Protocol: "https", Host: "h", Username: "v"},
		},
		{
			name: "non-UTF-8 bytes kept",
			in:   "username=\xff\xfe\n",
			want: GitRequest{Username: "\xff\xfe"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadGit(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadGitErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"line without =", "protocol=https\n" + secretPw + "\n", "line 2 is not key=value"},
		{"NUL in value", "protocol=https\npassword=" + secretPw + "\x00x\n", "line 2 contains a NUL"},
		{"NUL in key", "pass\x00word=" + secretPw + "\n", "line 1 contains a NUL"},
		{"last line without =", "host=h\n" + secretCred, "line 2 is not key=value"},
		{"bad url", "url=ht tp://u:" + secretPw + "@h/\n", "line 1: url is not an absolute URL"},
		{"relative url", "url=/" + secretPw + "\n", "url is not an absolute URL"},
		{"url with encoded newline in user", "url=https://a%0Ahost=evil@h/\n", "line 1: url contains a newline"},
		{"url with encoded NUL in path", "url=https://h/a%00b\n", "url contains a newline, carriage return or NUL"},
		{"url with encoded CR in password", "url=https://u:" + secretPw + "%0D@h/\n", "url contains"},
		{"too large", "password=" + strings.Repeat("x", MaxInput) + "\n", "larger than 65536 bytes"},
		{"too large many lines", strings.Repeat("host=h\n", MaxInput/7+1), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadGit(strings.NewReader(tt.in))
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("got %+v, %v; want a *RequestError", got, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.ContainsAny(err.Error(), "\n\r\x00") {
				t.Errorf("error %q is not one line", err)
			}
			assertNoSecret(t, err.Error())
			if !reflect.DeepEqual(got, GitRequest{}) {
				t.Errorf("on error got non-zero %+v", got)
			}
		})
	}
}

func TestReadGitLimitIgnoresDataAfterBlankLine(t *testing.T) {
	in := "host=h\n\n" + strings.Repeat("x", 2*MaxInput)
	got, err := ReadGit(strings.NewReader(in))
	if err != nil || got.Host != "h" {
		t.Fatalf("got %+v, %v", got, err)
	}
	// A single line just under the limit is fine.
	long := "password=" + strings.Repeat("x", MaxInput-len("password=")-1) + "\n"
	got, err = ReadGit(strings.NewReader(long))
	if err != nil || len(got.Password) != MaxInput-len("password=")-1 {
		t.Fatalf("long line: %v", err)
	}
}

func TestReadGitReadError(t *testing.T) {
	_, err := ReadGit(errReader{})
	var re *RequestError
	if err == nil || errors.As(err, &re) {
		t.Fatalf("got %v", err)
	}
}

func TestHasCapability(t *testing.T) {
	g := GitRequest{Capabilities: []string{"authtype", "state"}}
	tests := []struct {
		g    GitRequest
		c    string
		want bool
	}{
		{g, "authtype", true},
		{g, "state", true},
		{g, "Authtype", false},
		{g, "", false},
		{GitRequest{}, "authtype", false},
	}
	for _, tt := range tests {
		if got := tt.g.HasCapability(tt.c); got != tt.want {
			t.Errorf("HasCapability(%q) = %v", tt.c, got)
		}
	}
}

func TestWriteGit(t *testing.T) {
	exp := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a    GitAnswer
		want string
	}{
		{"empty answer writes nothing", GitAnswer{}, ""},
		{"username password expiry", GitAnswer{Username: `corp\svc`, Password: secretTok, PasswordExpiry: exp},
			"username=corp\\svc\npassword=" + secretTok + "\npassword_expiry_utc=1795420800\n"},
		{"expiry in other zone", GitAnswer{Password: "p", PasswordExpiry: exp.In(time.FixedZone("X", -5*3600))},
			"password=p\npassword_expiry_utc=1795420800\n"},
		{"authtype capability first", GitAnswer{Username: "u", Password: secretTok, PasswordExpiry: exp, AuthType: "Bearer", Credential: secretTok},
			"capability[]=authtype\nauthtype=Bearer\ncredential=" + secretTok + "\nusername=u\npassword=" + secretTok + "\npassword_expiry_utc=1795420800\n"},
		{"credential only", GitAnswer{AuthType: "Bearer", Credential: secretTok},
			"capability[]=authtype\nauthtype=Bearer\ncredential=" + secretTok + "\n"},
		{"authtype alone", GitAnswer{AuthType: "basic", Username: "u", Password: "p"},
			"capability[]=authtype\nauthtype=basic\nusername=u\npassword=p\n"},
		{"value with = kept", GitAnswer{Password: "a=b="}, "password=a=b=\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkWrites(t, func(w io.Writer) error { return WriteGit(w, tt.a) }, tt.want)
		})
	}
}

func TestWriteGitErrors(t *testing.T) {
	tests := []struct {
		name    string
		a       GitAnswer
		wantErr string
	}{
		{"newline in password", GitAnswer{Password: secretTok + "\nusername=evil"}, "password contains a newline"},
		{"CR in password", GitAnswer{Password: secretTok + "\r"}, "password contains"},
		{"NUL in username", GitAnswer{Username: "u\x00"}, "username contains"},
		{"newline in credential", GitAnswer{AuthType: "Bearer", Credential: secretCred + "\n"}, "credential contains"},
		{"newline in authtype", GitAnswer{AuthType: "Bearer\n", Credential: secretCred}, "authtype contains"},
		{"credential without authtype", GitAnswer{Credential: secretCred}, "credential needs an authtype"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefuses(t, func(w io.Writer) error { return WriteGit(w, tt.a) }, tt.wantErr)
		})
	}
}

func TestWriteGitReadGitRoundTrip(t *testing.T) {
	a := GitAnswer{Username: "u", Password: secretTok, PasswordExpiry: time.Unix(1795420800, 0), AuthType: "Bearer", Credential: secretTok}
	var b bytes.Buffer
	if err := WriteGit(&b, a); err != nil {
		t.Fatal(err)
	}
	g, err := ReadGit(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := GitRequest{Username: "u", Password: secretTok, PasswordExpiryUTC: "1795420800",
		Capabilities: []string{"authtype"}, AuthType: "Bearer", Credential: secretTok}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("got %+v", g)
	}
}
