package config

import (
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

const fleetProfile = "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n"

func TestFleetConfig(t *testing.T) {
	cfg, err := Parse([]byte(fleetProfile + `
[cache]
backend = "etcd"
local = "file"
local_max_age = "0s"

[cache.etcd]
endpoints = ["https://etcd-1:2379", "https://etcd-2:2379", "https://etcd-3:2379"]
cert_file = "c.pem"
key_file = "k.pem"
username = "helper"
password_file = "/run/secrets/etcd"
`))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Cache
	if !c.Fleet() || c.Etcd.Prefix != DefaultEtcdPrefix || c.Etcd.DialTimeout.Duration != DefaultDialTimeout || c.Etcd.LockTTL.Duration != DefaultLockTTL {
		t.Errorf("defaults: %+v", c.Etcd)
	}
	if backend, age := c.LocalLevel(); backend != cache.BackendFile || age != 0 {
		t.Errorf("local level %s %s, want file and 0s (set explicitly)", backend, age)
	}
	cfg, err = Parse([]byte(fleetProfile + "[cache]\nbackend = \"etcd\"\n[cache.etcd]\nendpoints = [\"http://127.0.0.1:2379\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if backend, age := cfg.Cache.LocalLevel(); backend != cache.LocalBackend("") || age != 30*time.Second {
		t.Errorf("default local level %s %s", backend, age)
	}
}

// A username over plain http is allowed to a loopback address only.
func TestFleetUserOverLoopbackHTTP(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		text := fleetProfile + "[cache]\nbackend = \"etcd\"\n[cache.etcd]\nendpoints = [\"http://" + host + ":2379\"]\nusername = \"u\"\npassword_env = \"P\"\n"
		if _, err := Parse([]byte(text)); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

func TestFleetConfigErrors(t *testing.T) {
	fleet := func(cacheLines, etcdLines string) string {
		return fleetProfile + "[cache]\nbackend = \"etcd\"\n" + cacheLines + "[cache.etcd]\nendpoints = [\"https://e1:2379\"]\n" + etcdLines
	}
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown etcd key", fleet("", "endpoint = \"x\"\n"), []string{"line 9", `"cache.etcd.endpoint"`}},
		{"wrong type", fleet("", "lock_ttl = 15\n"), []string{"line 9", "lock_ttl"}},
		{"endpoints a string", fleetProfile + "[cache]\nbackend = \"etcd\"\n[cache.etcd]\nendpoints = \"https://e1:2379\"\n", []string{"line 8", "endpoints"}},
		{"bad duration", fleet("local_max_age = \"soon\"\n", ""), []string{"line 7", "not a duration"}},
		{"no endpoints", fleetProfile + "[cache]\nbackend = \"etcd\"\n", []string{"cache.etcd.endpoints"}},
		{"endpoint without port", strings.Replace(fleet("", ""), "https://e1:2379", "https://e1", 1), []string{"https://e1", "endpoints"}},
		{"mixed schemes", fleetProfile + "[cache]\nbackend = \"etcd\"\n[cache.etcd]\nendpoints = [\"https://e1:2379\", \"http://e2:2379\"]\n", []string{"mix"}},
		{"bad local", fleet("local = \"memory\"\n", ""), []string{"cache.local", "memory"}},
		{"local without etcd", fleetProfile + "[cache]\nbackend = \"file\"\nlocal = \"file\"\n", []string{"cache.local", "etcd"}},
		{"cert without key", fleet("", "cert_file = \"c.pem\"\n"), []string{"cert_file", "key_file"}},
		{"user without password", fleet("", "username = \"helper\"\n"), []string{"username", "password_env"}},
		{"two password sources", fleet("", "username = \"helper\"\npassword_env = \"P\"\npassword_file = \"/p\"\n"), []string{"one of"}},
		{"password without user", fleet("", "password_env = \"P\"\n"), []string{"username"}},
		{"lock_ttl below a second", fleet("", "lock_ttl = \"500ms\"\n"), []string{"lock_ttl", "whole seconds"}},
		{"user over http to a name that starts with 127.", fleetProfile + "[cache]\nbackend = \"etcd\"\n[cache.etcd]\nendpoints = [\"http://127.attacker.example:2379\"]\nusername = \"u\"\npassword_env = \"P\"\n", []string{"clear"}},
		{"credentials in an endpoint", strings.Replace(fleet("", ""), "https://e1:2379", "https://root:s3cret@e1:2379", 1), []string{"must not hold credentials", "root:xxxxx@e1"}},
		{"an endpoint url.Parse refuses", strings.Replace(fleet("", ""), "https://e1:2379", "https://root:s3cret@e1:23%79", 1), []string{"not a URL"}},
		{"user over remote http", fleetProfile + "[cache]\nbackend = \"etcd\"\n[cache.etcd]\nendpoints = [\"http://e1:2379\"]\nusername = \"u\"\npassword_env = \"P\"\n", []string{"clear"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			if exitcode.Of(err) != exitcode.Usage || strings.Contains(err.Error(), "\n") {
				t.Errorf("exit %d, %q: want one line, exit %d", exitcode.Of(err), err, exitcode.Usage)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the password is in the error: %q", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
