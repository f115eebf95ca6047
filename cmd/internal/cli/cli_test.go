package cli

import (
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func TestApplyRequest(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name        string
		jr          protocol.Request
		profileFlag string
		wantProfile string
		wantMin     time.Duration
		wantForce   bool
	}{
		{"empty request keeps flags", protocol.Request{}, "", "env", 5 * time.Minute, false},
		{"request profile beats VEEAM_PROFILE", protocol.Request{Profile: "r"}, "", "r", 5 * time.Minute, false},
		{"-p beats the request", protocol.Request{Profile: "r"}, "flag", "env", 5 * time.Minute, false},
		{"min_valid_seconds replaces --min-valid", protocol.Request{MinValidSeconds: n(30)}, "", "env", 30 * time.Second, false},
		{"min_valid_seconds 0 too", protocol.Request{MinValidSeconds: n(0)}, "", "env", 0, false},
		{"huge min_valid_seconds is clamped, not negative", protocol.Request{MinValidSeconds: n(1 << 62)}, "", "env", maxMinValidSeconds * time.Second, false},
		{"force_refresh", protocol.Request{ForceRefresh: true}, "", "env", 5 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			profile := "env" // what -p or VEEAM_PROFILE gave
			o := GetFlags{MinValid: 5 * time.Minute}
			ApplyRequest(tc.jr, tc.profileFlag, &profile, &o)
			if profile != tc.wantProfile || o.MinValid != tc.wantMin || o.ForceRefresh != tc.wantForce {
				t.Fatalf("profile %q min %v force %v", profile, o.MinValid, o.ForceRefresh)
			}
		})
	}
}

func TestFindSibling(t *testing.T) {
	// The test binary's own directory holds no such program, and PATH does not either.
	t.Setenv("PATH", t.TempDir())
	if p, err := FindSibling("veeam-credential-helper-no-such-program"); err == nil {
		t.Fatalf("found %q", p)
	}
	// On PATH.
	dir := t.TempDir()
	name := "vch-sibling-test"
	file := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	if err := os.WriteFile(file, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if p, err := FindSibling(name); err != nil || p != file {
		t.Fatalf("FindSibling = %q, %v; want %q", p, err, file)
	}
	// Next to the executable wins over PATH.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	next := filepath.Join(filepath.Dir(self), filepath.Base(file))
	if err := os.WriteFile(next, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(next)
	if p, err := FindSibling(name); err != nil || p != next {
		t.Fatalf("FindSibling = %q, %v; want the sibling %q", p, err, next)
	}
}

func TestDefaultConfigPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if got, want := DefaultConfigPath(), config.DefaultConfigPath(); got != want || got == "" {
		t.Fatalf("cli %q, config %q", got, want)
	}
}
