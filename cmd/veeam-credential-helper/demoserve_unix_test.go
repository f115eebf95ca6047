//go:build unix

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// demo --serve prints export lines and a blank line; a second process
// using only those gets a token of each product; SIGTERM stops it and
// removes what it made.
func TestDemoServe(t *testing.T) {
	e := testenv.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(t), "demo", "--serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.Dir, "TMPDIR=" + e.Dir}, testenv.RaceEnv()...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.Dir}, testenv.RaceEnv()...)
	vars := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "" {
		// Each line goes through a real shell, as a user would paste it.
		line := sc.Text()
		if !strings.HasPrefix(line, "export ") || !strings.Contains(line, "='") {
			t.Fatalf("not an export line: %q", line)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		b, err := exec.Command("sh", "-c", line+`; printf %s "$`+name+`"`).Output()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		vars[name] = string(b)
		env = append(env, name+"="+string(b))
	}
	for _, want := range []string{"VEEAM_CREDENTIAL_HELPER_CONFIG", "VEEAM_CREDENTIAL_HELPER_PASSPHRASE", "VEEAM_DEMO_PASSWORD", "VEEAM_DEMO_CA_FILE"} {
		if vars[want] == "" {
			t.Fatalf("no %s in %v (stderr %q)", want, vars, stderr.String())
		}
	}
	dir := filepath.Dir(vars["VEEAM_CREDENTIAL_HELPER_CONFIG"])
	run := func(args ...string) (string, error) {
		c := exec.CommandContext(ctx, testenv.Binary(t), args...)
		c.Env = env
		b, err := c.Output()
		return string(b), err
	}
	for _, p := range []string{"vb365", "vbazure", "vbr", "vbaws", "vbgcp", "vone", "vspc"} {
		tok, err := run("get", "-p", p, "--format", "token", "--no-stdin")
		if err != nil || !strings.HasPrefix(tok, p+"-") {
			t.Errorf("get -p %s: %v %q", p, err, tok)
		}
	}
	// The default profile is vb365, and its server accepts the token.
	tok, err := run("get", "--format", "token", "--no-stdin")
	if err != nil || !strings.HasPrefix(tok, "vb365-") {
		t.Fatalf("get: %v %q", err, tok)
	}
	pem, err := os.ReadFile(vars["VEEAM_DEMO_CA_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, vars["VEEAM_DEMO_VB365_URL"]+"/v8/Organizations", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("protected call: %v %v", resp, err)
	}
	resp.Body.Close()

	indexDir := filepath.Join(e.Dir, ".cache", "veeam-credential-helper", "index")
	if ix, _ := os.ReadDir(indexDir); len(ix) != 1 {
		t.Fatalf("index of the demo's configuration: %v", ix)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v, stderr %q", err, stderr.String())
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there: %v", dir, err)
	}
	if !strings.Contains(stderr.String(), "removed") {
		t.Errorf("stderr %q", stderr.String())
	}
	if ix, _ := os.ReadDir(indexDir); len(ix) != 0 {
		t.Errorf("the demo's index is left in %s: %v", indexDir, ix)
	}
}
