package main

import (
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// What the binary makes of a static VSPC API key (its flow is tested in
// package helper): an answer without expires_at in every format, and a
// status that says what it is without showing it.
func TestVSPCAPIKeyAnswer(t *testing.T) {
	e := testenv.New(t)
	em := e.Emulator(emulator.Options{Product: "vspc"})
	em.AddAPIKey("portal-admin", "vspc-apikey-one-1111")
	e.Vars["VSPC_KEY"] = "vspc-apikey-one-1111"
	p := e.ProfileOf("key", "vspc")
	p.Grant, p.APIKeyEnv = "api-key", "VSPC_KEY"
	e.Profiles(p)
	r := e.Run("", "get")
	mustOK(t, r)
	if strings.Contains(r.Stdout, "expires_at") {
		t.Errorf("an API key answer carries an expiry: %s", r.Stdout)
	}
	if a := decode(t, r); a.AccessToken != "vspc-apikey-one-1111" || a.TokenType != "Bearer" || a.Source != "grant" {
		t.Fatalf("api key answer %+v", a)
	}
	r = e.Run("", "get", "--format", "env")
	if r.Exit != 0 || r.Stdout != "VEEAM_ACCESS_TOKEN=vspc-apikey-one-1111\nVEEAM_TOKEN_EXPIRES_AT=''\n" {
		t.Errorf("env format: exit %d %q", r.Exit, r.Stdout)
	}
	if st := e.Run("", "status"); !strings.Contains(st.Stdout, "static API key") || strings.Contains(st.Stdout, "vspc-apikey") {
		t.Errorf("status %q", st.Stdout)
	}
}
