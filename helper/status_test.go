package helper

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// Statuses reads the profiles of a file cache in parallel: each status is
// its own profile's, in name order.
func TestStatusesManyProfiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VCH_STATUS_TEST_PASSPHRASE", "status-test")
	var text strings.Builder
	fmt.Fprintf(&text, "[cache]\nbackend = \"file\"\ndir = %q\npassphrase_env = \"VCH_STATUS_TEST_PASSPHRASE\"\n", filepath.ToSlash(dir))
	for i := range 40 {
		fmt.Fprintf(&text, "[profiles.p%02d]\nproduct = \"vb365\"\nurl = \"https://vb%d.example:4443\"\nusername = \"u%d\"\n", i, i, i)
	}
	cfg, err := config.Parse([]byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	h := New(cfg)
	st, _, err := h.OpenCache()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := 0; i < 40; i += 3 { // every third profile has an entry valid i minutes
		b, err := cache.EncodeEntry(cache.Entry{AccessToken: "at", ExpiresAt: now.Add(time.Duration(i+1) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		p := cfg.Profiles[fmt.Sprintf("p%02d", i)]
		if err := st.Set(p.CacheKey(), b); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := st.Set(secretKey(p), []byte("pw")); err != nil {
				t.Fatal(err)
			}
		}
	}
	sts, err := h.Statuses()
	if err != nil || len(sts) != 40 {
		t.Fatalf("%d statuses, %v", len(sts), err)
	}
	for i, s := range sts {
		want := now.Add(time.Duration(i+1) * time.Minute).UTC().Truncate(time.Second)
		if s.Profile != fmt.Sprintf("p%02d", i) || s.Username != fmt.Sprintf("u%d", i) || s.Error != "" ||
			s.Valid != (i%3 == 0) || (i%3 == 0) != !s.ValidUntil.IsZero() || s.Valid && !s.ValidUntil.Truncate(time.Second).Equal(want) ||
			s.SecretStored != (i%3 == 0 && i%2 == 0) {
			t.Errorf("status %d: %+v", i, s)
		}
	}
}
