package config

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// GitProfile picks the profile for a git credential request: the profiles
// whose url (scheme, host and port) or one of whose git_hosts matches git's
// protocol and host. When git names a user (https://user@host), only
// profiles whose username (or client_id, for assertion grants) is that user
// match, as with git's own helpers. Of several matches, prefer (-p or
// $VEEAM_PROFILE) wins when it is one of them, else default_profile when it
// is one of them; otherwise it is a usage error naming the matches.
//
// host is as git sends it: "name" or "name:port" ("[v6]:port" for IPv6);
// a missing port is the scheme's default (https 443, http 80). Host names
// compare without regard to case. No match gives (nil, nil): git's other
// helpers go on.
//
// git_hosts entries are "host", "host:port" or "scheme://host[:port]":
// without a scheme an entry matches https (and http only when the profile
// sets insecure_plain_http); without a port it matches the default port of
// git's protocol. git over plain http matches no profile without
// insecure_plain_http: the token would go in cleartext to whoever answers.
func (c *Config) GitProfile(protocol, host, username, prefer string) (*Profile, error) {
	protocol = strings.ToLower(protocol)
	want, ok := gitKey(protocol, host)
	if !ok {
		return nil, nil
	}
	var matches []*Profile
	for _, name := range c.ProfileNames() {
		p := c.Profiles[name]
		if username != "" && username != p.Identity() {
			continue
		}
		keys, err := p.GitKeys()
		if err != nil {
			return nil, err
		}
		if slices.Contains(keys, want) {
			matches = append(matches, p)
		}
	}
	switch len(matches) {
	case 0:
		return nil, nil
	case 1:
		return matches[0], nil
	}
	for _, name := range []string{prefer, c.DefaultProfile} {
		for _, p := range matches {
			if name != "" && p.Name == name {
				return p, nil
			}
		}
	}
	names := make([]string, len(matches))
	for i, p := range matches {
		names[i] = p.Name
	}
	return nil, exitcode.UsageError("git host %s matches profiles %s: choose one with -p (credential.helper = \"... -p NAME git\") or default_profile",
		want, strings.Join(names, ", "))
}

// gitKey is "scheme://host:port" for an https or http request to host
// ("name[:port]", IPv6 in brackets): the scheme's default port filled in,
// the name in lower case without a trailing dot. ok is false for another
// scheme or an empty or malformed host.
func gitKey(scheme, host string) (string, bool) {
	var defaultPort string
	switch scheme {
	case "https":
		defaultPort = "443"
	case "http":
		defaultPort = "80"
	}
	if host == "" || defaultPort == "" {
		return "", false
	}
	name, port := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		name = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		// "name:" or several colons without brackets.
		if strings.HasSuffix(host, ":") && strings.Count(host, ":") == 1 {
			name = strings.TrimSuffix(host, ":")
		} else {
			return "", false
		}
	}
	if port == "" {
		port = defaultPort
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" {
		return "", false
	}
	return scheme + "://" + net.JoinHostPort(name, port), true
}

// GitKeys lists the gitKey of every git request the profile serves: its
// url's, and each git_hosts entry's (an entry without a scheme serves
// https, and http only with insecure_plain_http; without a port, the
// default port of git's protocol).
func (p *Profile) GitKeys() ([]string, error) {
	var keys []string
	if u, err := url.Parse(p.URL); err == nil {
		if k, ok := gitKey(strings.ToLower(u.Scheme), u.Host); ok {
			keys = append(keys, k)
		}
	}
	for _, entry := range p.GitHosts {
		bad := exitcode.UsageError("profile %q: git_hosts entry %q is not host, host:port or http(s)://host[:port]", p.Name, entry)
		schemes, rest := []string{"https"}, strings.TrimSpace(entry)
		if p.InsecurePlainHTTP {
			schemes = append(schemes, "http")
		}
		if strings.Contains(rest, "://") {
			u, err := url.Parse(rest)
			if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				return nil, bad
			}
			schemes, rest = []string{strings.ToLower(u.Scheme)}, u.Host
		}
		if strings.ContainsAny(rest, "/?#@") {
			return nil, bad
		}
		if slices.Equal(schemes, []string{"http"}) && !p.InsecurePlainHTTP {
			return nil, exitcode.UsageError("profile %q: git_hosts entry %q is plain http: set insecure_plain_http = true to send tokens unencrypted, or use https", p.Name, entry)
		}
		for _, scheme := range schemes {
			k, ok := gitKey(scheme, rest)
			if !ok {
				return nil, bad
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// GitProfileFor is GitProfile for a helper run as `-p NAME git` (flagProfile)
// or with $VEEAM_PROFILE set (envProfile). A profile named by -p must serve
// git's host: answering it elsewhere would hand one server's token to
// another, so a mismatch is a usage error. $VEEAM_PROFILE, exported for
// other tools, only breaks a tie between matching profiles.
func (c *Config) GitProfileFor(protocol, host, username, flagProfile, envProfile string) (*Profile, error) {
	if flagProfile == "" {
		return c.GitProfile(protocol, host, username, envProfile)
	}
	p, err := c.Profile(flagProfile)
	if err != nil {
		return nil, err
	}
	protocol = strings.ToLower(protocol)
	want, ok := gitKey(protocol, host)
	if !ok {
		return nil, nil
	}
	keys, err := p.GitKeys()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(keys, want) {
		return nil, exitcode.UsageError("git asks for %s, which is not profile %q's url %s: drop -p %s from credential.helper, or add %q to the profile's git_hosts",
			want, p.Name, p.URL, p.Name, strings.TrimPrefix(want, protocol+"://"))
	}
	if username != "" && username != p.Identity() {
		return nil, exitcode.UsageError("git asks for user %q at %s, but profile %q is %q: fix the user in the remote's url or drop -p %s",
			username, want, p.Name, p.Identity(), p.Name)
	}
	return p, nil
}
