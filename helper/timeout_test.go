package helper

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "net/http: TLS handshake timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// A network timeout before the profile's deadline (a transport's own
// limit) reads as the deadline does: one wording for one failure.
func TestTimeoutsShareOneWording(t *testing.T) {
	s := &client{h: New(nil), p: &config.Profile{Name: "p", URL: "https://h:1"}}
	s.p.Timeout.Duration = 30 * time.Second
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	a := s.transportError(expired, context.DeadlineExceeded).Error()
	b := s.transportError(context.Background(), timeoutError{}).Error()
	if a != b || !strings.Contains(a, "within timeout 30s") || strings.Contains(b, "handshake") {
		t.Fatalf("deadline: %q\nnet timeout: %q", a, b)
	}
}
