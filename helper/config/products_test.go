package config

import (
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

func TestLaterProductsDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
[profiles.vbr]
product = "vbr"
url = "https://vbr.example.com/"
username = 'CORP\ops'

[profiles.vbr_port]
product = "vbr"
url = "https://vbr.example.com:443"
username = 'CORP\ops'
api_version = "1.2-rev0"

[profiles.vone]
product = "vone"
url = "https://[2001:db8::1]"
username = 'ONE\admin'

[profiles.vspc]
product = "vspc"
url = "https://vspc.example.com"
grant = "api-key"
api_key_env = "VSPC_KEY"

[profiles.aws]
product = "vbaws"
url = "https://aws-appliance.example.com"
username = "admin"

[profiles.gcp]
product = "vbgcp"
url = "https://gcp-appliance.example.com"
username = "admin"

[profiles.m365]
product = "vb365"
url = "https://vb365.example.com"
username = "admin"

[profiles.m365_v7]
product = "vb365"
url = "https://vb365.example.com:8443/"
username = "admin"
api_version = "v7"

[profiles.aws_set]
product = "vbaws"
url = "http://aws-appliance.example.com"
insecure_plain_http = true
username = "admin"
api_version = "1.7-rev0"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // url, api_version
		"vbr":      {"https://vbr.example.com:9419", "1.1-rev0"},
		"vbr_port": {"https://vbr.example.com:443", "1.2-rev0"},
		"vone":     {"https://[2001:db8::1]:1239", ""},
		"vspc":     {"https://vspc.example.com:1280", ""},
		"aws":      {"https://aws-appliance.example.com:11005", "1.5-rev1"},
		"aws_set":  {"http://aws-appliance.example.com:11005", "1.7-rev0"},
		"gcp":      {"https://gcp-appliance.example.com:13140", "1.3-rev0"},
		"m365":     {"https://vb365.example.com:4443", ""},
		"m365_v7":  {"https://vb365.example.com:8443", "v7"},
	}
	for name, w := range want {
		p := cfg.Profiles[name]
		if p.URL != w[0] || p.APIVersion != w[1] {
			t.Errorf("%s: url %q api_version %q, want %q %q", name, p.URL, p.APIVersion, w[0], w[1])
		}
	}
	// Only a default revision may be replaced by one the server names.
	for name, want := range map[string]bool{"vbr": true, "vbr_port": false, "aws": true, "aws_set": false, "gcp": true, "m365": false} {
		if got := cfg.Profiles[name].APIVersionDefaulted(); got != want {
			t.Errorf("%s: APIVersionDefaulted %v", name, got)
		}
	}
	// The vb365 default is v8, and it is not written into the profile: the
	// cache key of a profile without api_version does not change.
	if v, v7 := cfg.Profiles["m365"].VB365APIVersion(), cfg.Profiles["m365_v7"].VB365APIVersion(); v != "v8" || v7 != "v7" {
		t.Errorf("vb365 API versions %q %q", v, v7)
	}
	if k := cfg.Profiles["vspc"]; k.Grant != GrantAPIKey || !k.Static() {
		t.Errorf("vspc api-key profile: grant %q static %v", k.Grant, k.Static())
	}
}

func TestLaterProductsConfigErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"unknown product", "[profiles.a]\nproduct = \"vbo\"\nurl = \"https://h\"\n", "known: vb365, vbaws, vbazure, vbgcp, vbr, vone, vspc"},
		{"vbr needs a user", "[profiles.a]\nproduct = \"vbr\"\nurl = \"https://h\"\n", "username is required"},
		{"vone api_version", "[profiles.a]\nproduct = \"vone\"\nurl = \"https://h\"\nusername = \"u\"\napi_version = \"v2.2\"\n", "not used by vone"},
		{"vspc grant", "[profiles.a]\nproduct = \"vspc\"\nurl = \"https://h\"\ngrant = \"apikey\"\n", `"apikey" is not one of password, api-key`},
		{"vspc key with password grant", "[profiles.a]\nproduct = \"vspc\"\nurl = \"https://h\"\nusername = \"u\"\napi_key_env = \"K\"\n", `need grant = "api-key"`},
		{"vspc api-key with password_env", "[profiles.a]\nproduct = \"vspc\"\nurl = \"https://h\"\ngrant = \"api-key\"\npassword_env = \"K\"\n", "not password_"},
		{"vb365 api_version", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\napi_version = \"8\"\n", `api_version "8" is not a VB365 REST API version: use "v8"`},
		{"vb365 api_version v5", "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\napi_version = \"v5\"\n", `"v7" (VB365 7 and 8) or "v6"`},
		{"vbr api-key", "[profiles.a]\nproduct = \"vbr\"\nurl = \"https://h\"\nusername = \"u\"\ngrant = \"api-key\"\n", "not one of password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want exit 2 with %q", err, tc.want)
			}
		})
	}
}
