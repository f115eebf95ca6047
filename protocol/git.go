package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GitRequest is the credential description git writes to a credential
// helper's stdin (https://git-scm.com/docs/git-credential, INPUT/OUTPUT
// FORMAT); each field holds the key of the same name.
type GitRequest struct {
	Protocol, Host, Path, Username, Password string
	PasswordExpiryUTC                        string   // password_expiry_utc, as sent
	Capabilities                             []string // capability[]
	WWWAuth                                  []string // wwwauth[]
	AuthType, Credential                     string   // authtype, credential
}

// ReadGit reads a git credential description from r: key=value lines up to a
// blank line or the end of input (nothing after the blank line is read
// into the result). A trailing "\r" is removed from each line, as git does.
//
// Keys this package does not know (state[], ephemeral, continue,
// oauth_refresh_token, …) are ignored. Multi-valued keys (capability[],
// wwwauth[]) accumulate in order, and an empty value ("capability[]=")
// clears the list gathered so far. The key url sets protocol, host, path,
// username and password from a URL, clearing those of them it lacks, like
// `git credential` does.
//
// A line without '=', a line containing NUL, a url value that is not an
// absolute URL or whose %-decoded parts hold a newline, CR or NUL, and more
// than MaxInput bytes before the blank line give a *RequestError; its message
// gives the line number, never the line.
func ReadGit(r io.Reader) (GitRequest, error) {
	var g GitRequest
	br := bufio.NewReader(io.LimitReader(r, MaxInput+1))
	total := 0
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole (bounded by the LimitReader).
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if err != nil && err != io.EOF {
			return GitRequest{}, fmt.Errorf("reading git credential description: %w", err)
		}
		total += len(line)
		if total > MaxInput {
			return GitRequest{}, reqErrf("git credential description is larger than %d bytes", MaxInput)
		}
		eof := err == io.EOF
		if eof && len(line) == 0 {
			break
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return GitRequest{}, reqErrf("git credential line %d contains a NUL byte", lineNo)
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			return GitRequest{}, reqErrf("git credential line %d is not key=value", lineNo)
		}
		if err := g.set(string(k), string(v), lineNo); err != nil {
			return GitRequest{}, err
		}
		if eof {
			break
		}
	}
	return g, nil
}

func (g *GitRequest) set(key, value string, lineNo int) error {
	// The single-valued keys: a later value replaces an earlier one.
	single := map[string]*string{
		"protocol": &g.Protocol, "host": &g.Host, "path": &g.Path, "username": &g.Username, "password": &g.Password,
		"password_expiry_utc": &g.PasswordExpiryUTC, "authtype": &g.AuthType, "credential": &g.Credential,
	}
	if f, ok := single[key]; ok {
		*f = value
		return nil
	}
	switch key {
	case "capability[]":
		g.Capabilities = appendMulti(g.Capabilities, value)
	case "wwwauth[]":
		g.WWWAuth = appendMulti(g.WWWAuth, value)
	case "url":
		u, err := url.Parse(value)
		if err != nil || u.Scheme == "" {
			return reqErrf("git credential line %d: url is not an absolute URL", lineNo)
		}
		var user, pass string
		if u.User != nil {
			user = u.User.Username()
			pass, _ = u.User.Password()
		}
		path := strings.TrimRight(strings.TrimPrefix(u.Path, "/"), "/")
		// Like git (CVE-2020-5260): a %-encoded newline or NUL in a
		// component must not reach a helper's key=value output.
		for _, c := range [...]string{u.Scheme, u.Host, path, user, pass} {
			if strings.ContainsAny(c, "\n\r\x00") {
				return reqErrf("git credential line %d: url contains a newline, carriage return or NUL", lineNo)
			}
		}
		g.Protocol, g.Host, g.Path, g.Username, g.Password = u.Scheme, u.Host, path, user, pass
	}
	return nil
}

func appendMulti(list []string, value string) []string {
	if value == "" {
		return nil
	}
	return append(list, value)
}

// HasCapability reports whether git announced capability c (capability[]=c).
func (g GitRequest) HasCapability(c string) bool {
	return slices.Contains(g.Capabilities, c)
}

// GitAnswer is what a credential helper answers to `get`; each field is
// written as the key of the same name.
type GitAnswer struct {
	Username, Password string
	PasswordExpiry     time.Time // written as password_expiry_utc=<unix seconds> when non-zero
	// AuthType and Credential, when either is set, are written after
	// capability[]=authtype (e.g. authtype=Bearer, credential=<token>).
	// Send them only when the request HasCapability("authtype").
	AuthType, Credential string
}

// WriteGit writes a as git credential key=value lines in one Write call:
// capability[]=authtype, authtype, credential (when AuthType or Credential is
// set; the capability line first, as git requires), then username, password
// and password_expiry_utc; empty fields are left out, so the zero GitAnswer
// writes nothing (git then asks its other helpers). No blank line ends it.
//
// A value containing a newline, carriage return or NUL (which the format
// cannot carry), or a Credential without an AuthType, is an error whose
// message names the field, not the value.
func WriteGit(w io.Writer, a GitAnswer) error {
	var b bytes.Buffer
	put := func(key, value string) error {
		if value == "" {
			return nil
		}
		if strings.ContainsAny(value, "\n\r\x00") {
			return fmt.Errorf("git answer: %s contains a newline, carriage return or NUL", key)
		}
		b.WriteString(key + "=" + value + "\n")
		return nil
	}
	if a.Credential != "" && a.AuthType == "" {
		return errors.New("git answer: credential needs an authtype")
	}
	var expiry string
	if !a.PasswordExpiry.IsZero() {
		expiry = strconv.FormatInt(a.PasswordExpiry.Unix(), 10)
	}
	if a.AuthType != "" || a.Credential != "" {
		b.WriteString("capability[]=authtype\n")
	}
	for _, kv := range [...][2]string{
		{"authtype", a.AuthType},
		{"credential", a.Credential},
		{"username", a.Username},
		{"password", a.Password},
		{"password_expiry_utc", expiry},
	} {
		if err := put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := w.Write(b.Bytes())
	return err
}
