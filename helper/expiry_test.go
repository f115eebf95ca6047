package helper

import (
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// A server claiming an absurd lifetime gets a capped, storable expiry: not
// one in the past (expires_in overflowing time.Duration) nor one after year
// 9999 (an entry that cannot be encoded, which surfaced as a false exit 6).
func TestExpiryCappedAndStorable(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for _, tc := range []tokenAnswer{
		{AccessToken: "a", ExpiresIn: 1e300},
		{AccessToken: "a", ExpiresIn: 1e10},
		{AccessToken: "a", Expires: "9999-12-31T23:59:59-23:59"},
		{AccessToken: "a", Expires: "9000-01-01T00:00:00Z"},
	} {
		exp, err := tc.expiry(now)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if !exp.After(now) || exp.After(now.Add(maxLifetime)) {
			t.Errorf("%+v: expiry %v", tc, exp)
		}
		if _, err := cache.EncodeEntry(cache.Entry{AccessToken: "a", ExpiresAt: exp}); err != nil {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	// Ordinary answers are trusted as they are.
	if exp, _ := (&tokenAnswer{ExpiresIn: 3600}).expiry(now); !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("expires_in 3600: %v", exp)
	}
	if exp, _ := (&tokenAnswer{Expires: "2026-11-23T08:15:00.0000000Z"}).expiry(now); !exp.Equal(now.Add(15 * time.Minute)) {
		t.Errorf(".expires: %v", exp)
	}
}
