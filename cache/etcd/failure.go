package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// errUnreachable matches the error of a call that found etcd unreachable;
// the Fleet then works on the local level.
var errUnreachable = errors.New("etcd unreachable")

type unreachableError struct{ cause error }

func (e *unreachableError) Error() string        { return "etcd unreachable: " + e.cause.Error() }
func (e *unreachableError) Unwrap() error        { return e.cause }
func (e *unreachableError) Is(target error) bool { return target == errUnreachable }

// refused is the error of an etcd that answers but will not serve us.
func (f *Fleet) refused(format string, args ...any) error {
	return &cache.UnavailableError{Msg: fmt.Sprintf("etcd at %s refused the helper: %s", strings.Join(f.cfg.Endpoints, ", "), fmt.Sprintf(format, args...))}
}

// classify is failure, and after an unreachable cluster the Fleet is down:
// warned once, local only.
func (f *Fleet) classify(err error) error { return f.classifyProbed(err, false) }

// classifyProbed is classify for a call whose endpoints probe already
// handshook with (probed): the handshakes, up to dial_timeout, are not
// repeated.
func (f *Fleet) classifyProbed(err error, probed bool) error {
	err = f.failure(err, probed)
	var u *unreachableError
	if errors.As(err, &u) {
		f.setDown(u)
	}
	return err
}

// failure turns a client error into an unreachableError or a refusal (an
// UnavailableError).
//
// The client retries a connection that fails its TLS handshake as it
// retries one that is refused: both end as a deadline. probe tells them
// apart by handshaking with each endpoint itself, unless probed says it
// already did.
func (f *Fleet) failure(err error, probed bool) error {
	if err == nil {
		return nil
	}
	switch errorCode(err) {
	case codes.PermissionDenied, codes.Unauthenticated, codes.InvalidArgument, codes.FailedPrecondition:
		// RBAC denied, wrong user or password, auth not enabled for a
		// configured user: a configuration to fix, not an outage.
		return f.refused("%s (check cache.etcd username, its password and its role on prefix %q)", rpctypes.ErrorDesc(err), f.cfg.Prefix)
	}
	if !probed {
		if rerr := f.probe(); rerr != nil {
			return rerr
		}
	}
	return &unreachableError{cause: shortCause(err)}
}

// errorCode is the gRPC code of a client error, whether the client
// converted it to an rpctypes.EtcdError or not.
func errorCode(err error) codes.Code {
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return ee.Code()
	}
	return status.Code(err)
}

// shortCause keeps the useful part of a client error for the warning.
func shortCause(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), status.Code(err) == codes.DeadlineExceeded:
		return errors.New("no answer in time")
	case errorCode(err) == codes.Unavailable:
		return errors.New("no connection")
	}
	return errors.New(rpctypes.ErrorDesc(err))
}

// refusedCheckAfter is how long a call runs before allRefused is asked.
const refusedCheckAfter = 150 * time.Millisecond

// allRefused reports whether every endpoint refuses a TCP connection.
func allRefused(ctx context.Context, endpoints []string) bool {
	var wg sync.WaitGroup
	refused := make([]bool, len(endpoints))
	for i, ep := range endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := url.Parse(ep)
			if err != nil {
				return
			}
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
			if err == nil {
				conn.Close()
				return
			}
			refused[i] = errors.Is(err, syscall.ECONNREFUSED)
		}()
	}
	wg.Wait()
	for _, r := range refused {
		if !r {
			return false
		}
	}
	return true
}

// probe handshakes with every https endpoint at once, within DialTimeout:
// a certificate the helper cannot verify, or an alert from the server (it
// refused our client certificate, during the handshake or, with TLS 1.3,
// right after it) is a refusal. Anything else (no connection, a quiet
// server) is not: nil.
func (f *Fleet) probe() error {
	if f.cfg.TLS == nil {
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, len(f.cfg.Endpoints))
	for i, ep := range f.cfg.Endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = probeTLS(ep, f.cfg.TLS, f.cfg.DialTimeout)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return f.refused("%s: %v", f.cfg.Endpoints[i], err)
		}
	}
	return nil
}

func probeTLS(endpoint string, base *tls.Config, timeout time.Duration) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" {
		return nil
	}
	cfg := base.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	cfg.NextProtos = []string{"h2"}
	deadline := time.Now().Add(timeout)
	raw, err := (&net.Dialer{Deadline: deadline}).Dial("tcp", u.Host)
	if err != nil {
		return nil
	}
	defer raw.Close()
	raw.SetDeadline(deadline)
	conn := tls.Client(raw, cfg)
	if err := conn.Handshake(); err != nil {
		return tlsRefusal(err)
	}
	// A server that refuses a TLS 1.3 client certificate says so in an
	// alert after the handshake; one that accepts it sends its HTTP/2
	// settings. Wait briefly for either.
	conn.SetReadDeadline(time.Now().Add(min(timeout, 500*time.Millisecond)))
	var b [1]byte
	_, err = conn.Read(b[:])
	return tlsRefusal(err)
}

// tlsRefusal is err when it says the TLS peer refused or cannot be trusted.
func tlsRefusal(err error) error {
	if err == nil {
		return nil
	}
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var cerr x509.CertificateInvalidError
	var oe *net.OpError
	switch {
	case errors.As(err, &verr), errors.As(err, &uerr), errors.As(err, &herr), errors.As(err, &cerr):
		return fmt.Errorf("cannot verify its certificate (check cache.etcd ca_file): %w", err)
	case errors.As(err, &oe) && oe.Op == "remote error":
		return fmt.Errorf("it refused the TLS connection (check cache.etcd cert_file and key_file): %v", oe.Err)
	}
	return nil
}
