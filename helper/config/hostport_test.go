package config

import (
	"net"
	"testing"
)

func TestHostPortMatchesNet(t *testing.T) {
	for _, s := range []string{
		"h:1", "h", "h:", ":1", "[::1]:443", "[::1]", "::1", "[::1]:", "a:b:c", "[a]b:1", "[a:1", "a]:1",
		"[fe80::1%eth0]:80", "[h]:1:2", "", ":", "[]:1", "x[y]:1", "example.com:4443",
	} {
		h, p, err := splitHostPort(s)
		nh, np, nerr := net.SplitHostPort(s)
		if (err == nil) != (nerr == nil) || h != nh && nerr == nil || p != np && nerr == nil {
			t.Errorf("splitHostPort(%q) = %q %q %v; net: %q %q %v", s, h, p, err, nh, np, nerr)
		}
	}
	for _, hp := range [][2]string{{"h", "1"}, {"::1", "443"}, {"fe80::1%eth0", "80"}, {"", ""}} {
		if got, want := joinHostPort(hp[0], hp[1]), net.JoinHostPort(hp[0], hp[1]); got != want {
			t.Errorf("joinHostPort(%q, %q) = %q, want %q", hp[0], hp[1], got, want)
		}
	}
}
