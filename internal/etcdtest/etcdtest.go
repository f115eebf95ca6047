// Package etcdtest starts a real etcd cluster for tests: three members of
// Debian's etcd-server on loopback (random ports, peers over plain http on
// 127.0.0.1), clients over TLS with a CA and client certificates made here.
// A package starts one cluster in TestMain and shares it between its tests.
//
// Without an etcd binary the tests skip, except in CI (CI set), where a
// missing etcd is a failure: the fleet tests must run there.
package etcdtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv/syncbuf"
)

// Binary finds the etcd server: $ETCD_BIN, etcd on PATH, /usr/bin/etcd.
func Binary() (string, error) {
	if p := os.Getenv("ETCD_BIN"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/etcd", "/usr/local/bin/etcd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no etcd binary (apt-get install etcd-server, or set ETCD_BIN)")
}

// Ctl finds etcdctl next to the server or on PATH.
func Ctl() (string, error) {
	if bin, err := Binary(); err == nil {
		p := filepath.Join(filepath.Dir(bin), "etcdctl")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("etcdctl")
}

// Member is one etcd server process.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	dataDir   string
	args      []string
	bin       string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *syncbuf.Buffer
}

// Cluster is three members and the files a client needs.
type Cluster struct {
	Members []*Member
	Dir     string

	CAFile         string // the CA of the servers' certificates and of the client certificates
	CertFile       string // a client certificate the cluster accepts
	KeyFile        string
	OtherCAFile    string // a CA the servers' certificates are not from
	RogueCertFile  string // a client certificate from OtherCA: the cluster refuses it
	RogueKeyFile   string
	ServerCertFile string
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.Members))
	for i, m := range c.Members {
		out[i] = m.ClientURL
	}
	return out
}

// shared is the cluster of Main.
var (
	shared     *Cluster
	sharedSkip string
	sharedErr  error
)

// Main starts the package's cluster, runs the tests and stops it. Use it as
// TestMain's body: func TestMain(m *testing.M) { etcdtest.Main(m) }.
func Main(m *testing.M) {
	var code int
	func() {
		bin, err := Binary()
		if err != nil {
			if os.Getenv("CI") != "" {
				sharedErr = fmt.Errorf("%v: CI must run the etcd tests", err)
			} else {
				sharedSkip = err.Error()
			}
		} else {
			shared, sharedErr = Start(bin, 3)
		}
		defer func() {
			if shared != nil {
				shared.Stop()
			}
		}()
		code = m.Run()
	}()
	os.Exit(code)
}

// Shared returns the cluster Main started; it skips the test when there is
// no etcd outside CI and fails it when the cluster could not start.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	switch {
	case sharedSkip != "":
		t.Skip(sharedSkip)
	case sharedErr != nil:
		t.Fatal(sharedErr)
	case shared == nil:
		t.Fatal("etcdtest.Shared needs TestMain to call etcdtest.Main")
	}
	return shared
}

// Start starts an n-member cluster with bin in a new temporary directory
// and waits until every member answers.
func Start(bin string, n int) (*Cluster, error) {
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm" // etcd fsyncs every write: memory makes the tests fast
	}
	dir, err := os.MkdirTemp(base, "etcdtest-")
	if err != nil {
		dir, err = os.MkdirTemp("", "etcdtest-")
		if err != nil {
			return nil, err
		}
	}
	c := &Cluster{Dir: dir}
	if err := c.makeCerts(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Another process may take a port between freePorts and etcd's bind:
	// each attempt has new ports and data directories, and the same certs.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if err := c.start(bin, n); err != nil {
			lastErr = err
			c.StopAll()
			continue
		}
		return c, nil
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func (c *Cluster) start(bin string, n int) error {
	ports, err := freePorts(2 * n)
	if err != nil {
		return err
	}
	c.Members = nil
	var initial []string
	for i := 0; i < n; i++ {
		m := &Member{
			Name:      fmt.Sprintf("m%d", i+1),
			ClientURL: fmt.Sprintf("https://127.0.0.1:%d", ports[2*i]),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
			bin:       bin,
		}
		m.dataDir = filepath.Join(c.Dir, m.Name+"-"+fmt.Sprint(ports[2*i]))
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	token := filepath.Base(c.Dir) + fmt.Sprint(ports[0])
	for _, m := range c.Members {
		m.args = []string{
			"--name", m.Name, "--data-dir", m.dataDir,
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", token,
			"--cert-file", c.ServerCertFile, "--key-file", filepath.Join(c.Dir, "server-key.pem"),
			"--client-cert-auth", "--trusted-ca-file", c.CAFile,
			"--logger", "zap", "--log-level", "error",
		}
		if err := m.Start(); err != nil {
			return err
		}
	}
	return c.WaitHealthy(30 * time.Second)
}

// Start (re)starts a stopped member with its data.
func (m *Member) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return nil
	}
	cmd := exec.Command(m.bin, m.args...)
	m.log = &syncbuf.Buffer{Max: 1 << 20}
	cmd.Stdout, cmd.Stderr = m.log, m.log
	// etcd 3.4 refuses architectures it calls unsupported unless this names
	// the one it runs on.
	cmd.Env = append(os.Environ(), "ETCD_UNSUPPORTED_ARCH="+runtime.GOARCH)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start etcd %s: %w", m.Name, err)
	}
	m.cmd = cmd
	return nil
}

// Stop kills the member (its data stays for Start).
func (m *Member) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Kill()
	m.cmd.Wait()
	m.cmd = nil
}

// Running reports whether the member's process is running.
func (m *Member) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd != nil
}

// Stop stops every member and removes the data.
func (c *Cluster) Stop() {
	for _, m := range c.Members {
		m.Stop()
	}
	if c.Dir != "" {
		os.RemoveAll(c.Dir)
	}
}

// StopAll stops every member but keeps the data (StartAll brings them back).
func (c *Cluster) StopAll() {
	for _, m := range c.Members {
		m.Stop()
	}
}

// StartAll starts every stopped member and waits until all answer.
func (c *Cluster) StartAll() error {
	for _, m := range c.Members {
		if err := m.Start(); err != nil {
			return err
		}
	}
	return c.WaitHealthy(30 * time.Second)
}

// WaitHealthy waits until every running member answers /health with
// "true" (it has a leader and applies writes).
func (c *Cluster) WaitHealthy(d time.Duration) error {
	hc, err := c.httpClient()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(d)
	for _, m := range c.Members {
		if !m.Running() {
			continue
		}
		for {
			resp, err := hc.Get(m.ClientURL + "/health")
			if err == nil {
				var b bytes.Buffer
				b.ReadFrom(resp.Body)
				resp.Body.Close()
				if strings.Contains(b.String(), `"health":"true"`) {
					break
				}
				err = fmt.Errorf("health %s", strings.TrimSpace(b.String()))
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("etcd member %s not healthy: %v\n%s", m.Name, err, m.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// Log is what the member printed.
func (m *Member) Log() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log == nil {
		return ""
	}
	return m.log.String()
}

// ClientTLS is the TLS configuration of an accepted client.
func (c *Cluster) ClientTLS() (*tls.Config, error) {
	ca, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}, nil
}

func (c *Cluster) httpClient() (*http.Client, error) {
	cfg, err := c.ClientTLS()
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}, nil
}

// Etcdctl runs etcdctl against the cluster as the accepted client and
// returns its stdout.
func (c *Cluster) Etcdctl(ctx context.Context, args ...string) (string, error) {
	bin, err := Ctl()
	if err != nil {
		return "", err
	}
	all := append([]string{"--endpoints", strings.Join(c.Endpoints(), ","), "--cacert", c.CAFile,
		"--cert", c.CertFile, "--key", c.KeyFile, "--dial-timeout", "3s"}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("etcdctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// makeCerts writes a CA, a server certificate for 127.0.0.1 and localhost,
// a client certificate from the CA, and a client certificate from another CA.
func (c *Cluster) makeCerts() error {
	caKey, caCert, err := newCA("etcdtest CA")
	if err != nil {
		return err
	}
	otherKey, otherCert, err := newCA("etcdtest other CA")
	if err != nil {
		return err
	}
	c.CAFile = filepath.Join(c.Dir, "ca.pem")
	c.OtherCAFile = filepath.Join(c.Dir, "other-ca.pem")
	c.ServerCertFile = filepath.Join(c.Dir, "server.pem")
	c.CertFile = filepath.Join(c.Dir, "client.pem")
	c.KeyFile = filepath.Join(c.Dir, "client-key.pem")
	c.RogueCertFile = filepath.Join(c.Dir, "rogue.pem")
	c.RogueKeyFile = filepath.Join(c.Dir, "rogue-key.pem")
	if err := writePEM(c.CAFile, "CERTIFICATE", caCert.Raw); err != nil {
		return err
	}
	if err := writePEM(c.OtherCAFile, "CERTIFICATE", otherCert.Raw); err != nil {
		return err
	}
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "etcd"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if err := issue(caKey, caCert, server, c.ServerCertFile, filepath.Join(c.Dir, "server-key.pem")); err != nil {
		return err
	}
	client := &x509.Certificate{Subject: pkix.Name{CommonName: ClientCommonName}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if err := issue(caKey, caCert, client, c.CertFile, c.KeyFile); err != nil {
		return err
	}
	rogue := &x509.Certificate{Subject: pkix.Name{CommonName: "fleet"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	return issue(otherKey, otherCert, rogue, c.RogueCertFile, c.RogueKeyFile)
}

// ClientCommonName is the accepted client certificate's common name: the
// etcd user it acts as once authentication is enabled.
const ClientCommonName = "fleet"

var serial int64 = 1

func newCA(name string) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

func issue(caKey *ecdsa.PrivateKey, ca *x509.Certificate, tmpl *x509.Certificate, certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return err
	}
	return writePEM(keyFile, "EC PRIVATE KEY", kb)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// URLHost is the host:port of an endpoint URL.
func URLHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	return u.Host
}
