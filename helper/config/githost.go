package config

import (
	"net/url"
	"strings"
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
	want, ok := splitGitHost(protocol, host)
	if !ok || (protocol != "https" && protocol != "http") {
		return nil, nil
	}
	var matches []*Profile
	for _, name := range c.ProfileNames() {
		p := c.Profiles[name]
		if username != "" && username != p.Identity() {
			continue
		}
		hit, err := p.matchesGit(protocol, want)
		if err != nil {
			return nil, err
		}
		if hit {
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
	return nil, UsageError("git host %s://%s matches profiles %s: choose one with -p (credential.helper = \"... -p NAME git\") or default_profile",
		protocol, want.String(), strings.Join(names, ", "))
}

type hostPort struct{ host, port string }

func (h hostPort) String() string { return joinHostPort(h.host, h.port) }

func defaultPort(scheme string) string {
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// splitGitHost splits "name[:port]" (IPv6 in brackets) and fills in the
// scheme's default port. ok is false for an empty or malformed host.
func splitGitHost(scheme, host string) (hostPort, bool) {
	if host == "" {
		return hostPort{}, false
	}
	name, port := host, ""
	if h, p, err := splitHostPort(host); err == nil {
		name, port = h, p
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		name = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		// "name:" or several colons without brackets.
		if strings.HasSuffix(host, ":") && strings.Count(host, ":") == 1 {
			name = strings.TrimSuffix(host, ":")
		} else {
			return hostPort{}, false
		}
	}
	if port == "" {
		port = defaultPort(scheme)
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" || port == "" {
		return hostPort{}, false
	}
	return hostPort{name, port}, true
}

// matchesGit reports whether the profile serves git's protocol and host.
func (p *Profile) matchesGit(protocol string, want hostPort) (bool, error) {
	if u, err := url.Parse(p.URL); err == nil && strings.ToLower(u.Scheme) == protocol {
		if got, ok := splitGitHost(protocol, u.Host); ok && got == want {
			return true, nil
		}
	}
	for _, entry := range p.GitHosts {
		scheme, rest := "", strings.TrimSpace(entry)
		if i := strings.Index(rest, "://"); i >= 0 {
			u, err := url.Parse(rest)
			if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				return false, UsageError("profile %q: git_hosts entry %q is not host, host:port or http(s)://host[:port]", p.Name, entry)
			}
			scheme, rest = strings.ToLower(u.Scheme), u.Host
		}
		if scheme == "http" && !p.InsecurePlainHTTP {
			return false, UsageError("profile %q: git_hosts entry %q is plain http: set insecure_plain_http = true to send tokens unencrypted, or use https", p.Name, entry)
		}
		if scheme != "" && scheme != protocol || protocol == "http" && !p.InsecurePlainHTTP {
			continue
		}
		got, ok := splitGitHost(protocol, rest)
		if !ok || strings.ContainsAny(rest, "/?#@") {
			return false, UsageError("profile %q: git_hosts entry %q is not host, host:port or http(s)://host[:port]", p.Name, entry)
		}
		if got == want {
			return true, nil
		}
	}
	return false, nil
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
	want, ok := splitGitHost(protocol, host)
	if !ok || (protocol != "https" && protocol != "http") {
		return nil, nil
	}
	hit, err := p.matchesGit(protocol, want)
	if err != nil {
		return nil, err
	}
	if !hit {
		return nil, UsageError("git asks for %s://%s, which is not profile %q's url %s: drop -p %s from credential.helper, or add %q to the profile's git_hosts",
			protocol, want.String(), p.Name, p.URL, p.Name, want.String())
	}
	if username != "" && username != p.Identity() {
		return nil, UsageError("git asks for user %q at %s://%s, but profile %q is %q: fix the user in the remote's url or drop -p %s",
			username, protocol, want.String(), p.Name, p.Identity(), p.Name)
	}
	return p, nil
}
