package config

import (
	"errors"
	"strings"
)

// joinHostPort and splitHostPort are net.JoinHostPort and net.SplitHostPort
// (same rules, from the Go source): package net's init and its cgo resolver
// would otherwise come into the cache-hit front program with them.
// TestHostPortMatchesNet checks them against package net.

func joinHostPort(host, port string) string {
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

var errHostPort = errors.New("not host:port")

func splitHostPort(hostport string) (host, port string, err error) {
	j, k := 0, 0
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return "", "", errHostPort
	}
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", "", errHostPort
		}
		switch end + 1 {
		case len(hostport):
			return "", "", errHostPort // missing port
		case i:
		default:
			// Either ']' isn't followed by a colon, or it is followed by a
			// colon that is not the last one.
			return "", "", errHostPort
		}
		host = hostport[1:end]
		j, k = 1, end+1
	} else {
		host = hostport[:i]
		if strings.IndexByte(host, ':') >= 0 {
			return "", "", errHostPort // too many colons
		}
	}
	if strings.IndexByte(hostport[j:], '[') >= 0 || strings.IndexByte(hostport[k:], ']') >= 0 {
		return "", "", errHostPort
	}
	return host, hostport[i+1:], nil
}
