package helper

import (
	"slices"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// The configuration accepts a product only by its rules in package config;
// the engine needs a flow for each, and no flow without rules.
func TestEveryProductHasAFlow(t *testing.T) {
	var flows []string
	for name := range products {
		flows = append(flows, name)
	}
	slices.Sort(flows)
	if got := config.ProductNames(); !slices.Equal(got, flows) {
		t.Fatalf("config products %v, helper flows %v", got, flows)
	}
}

// `login` stores the secret the primary grant reads.
func TestSecretKind(t *testing.T) {
	for _, tc := range []struct{ product, grant, extra, want string }{
		{"vb365", "password", "", secretPassword},
		{"vb365", "jwt-bearer", "client_id = \"app\"\n", secretAssertion},
		{"vb365", "operator", "client_id = \"u.t\"\n", secretAssertion},
		{"vspc", "api-key", "", secretAPIKey},
		{"vspc", "password", "", secretPassword},
	} {
		cfg, err := config.Parse([]byte("[profiles.p]\nproduct = \"" + tc.product + "\"\nurl = \"https://h\"\nusername = \"u\"\ngrant = \"" + tc.grant + "\"\n" + tc.extra))
		if err != nil {
			t.Fatalf("%s %s: %v", tc.product, tc.grant, err)
		}
		if got := secretKind(cfg.Profiles["p"]); got != tc.want {
			t.Errorf("%s %s: secret %q, want %q", tc.product, tc.grant, got, tc.want)
		}
	}
}
