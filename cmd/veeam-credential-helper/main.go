// Command veeam-credential-helper answers Veeam REST API bearer tokens from
// an encrypted cache.
//
// This program is the front: it answers a cache hit of `get`,
// `exec-credential` and `git get` by itself (package hit), and hands
// everything else — another command, a miss, an error, a warning to give —
// to veeam-credential-helper-engine, installed next to it, with the same
// arguments, environment and stdin (same PID on Unix). It links no HTTP,
// TLS or OS-keychain code: a cache hit, the call made thousands of times a
// day, costs little more than starting a process. It holds flags and exit
// codes only.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/term"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/internal/nodump"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func main() {
	// A cache hit decrypts the entry, refresh token included. One system
	// call: about 60 instructions of a hit's million (docs/security.md).
	nodump.Disable()
	var stdin []byte // what the front read of stdin, given back to the engine
	answer, ok := func() (answer []byte, ok bool) {
		// Whatever goes wrong here, the engine does it again and says so.
		defer func() {
			if recover() != nil {
				answer, ok = nil, false
			}
		}()
		return front(os.Args[1:], &stdin)
	}()
	if ok {
		if _, err := os.Stdout.Write(answer); err != nil {
			fmt.Fprintf(os.Stderr, "veeam-credential-helper: %s\n", config.OneLine(err.Error(), 400))
			os.Exit(config.ExitUnexpected)
		}
		os.Exit(config.ExitOK)
	}
	os.Exit(runEngine(os.Args, stdin))
}

// front answers a cache hit: the bytes for stdout and true. Anything else
// is false, for the engine. *stdin gets what was read of stdin.
func front(args []string, stdin *[]byte) ([]byte, bool) {
	var g cli.Globals
	gfs := newFlagSet(&g)
	if gfs.Parse(args) != nil || gfs.NArg() == 0 {
		return nil, false
	}
	name, rest := gfs.Arg(0), gfs.Args()[1:]
	fs := newFlagSet(&g)
	var o cli.GetFlags
	if name == "get" {
		o.Register(fs)
	}
	if fs.Parse(rest) != nil || g.Debug || o.ForceRefresh {
		return nil, false
	}
	profile := g.Profile
	if profile == "" {
		profile = os.Getenv("VEEAM_PROFILE")
	}
	var out bytes.Buffer
	switch {
	case name == "get" && fs.NArg() == 0:
		if !slices.Contains(protocol.Formats(), o.Format) {
			return nil, false
		}
		if !o.NoStdin && !term.IsTerminal(int(os.Stdin.Fd())) {
			in, ok := readStdin(stdin)
			if !ok {
				return nil, false
			}
			jr, err := protocol.DecodeRequest(bytes.NewReader(in))
			if err != nil {
				return nil, false
			}
			cli.ApplyRequest(jr, g.Profile, &profile, &o)
			if o.ForceRefresh {
				return nil, false
			}
		}
		cfg, p, ok := load(g.Config, profile)
		if !ok {
			return nil, false
		}
		e, ok := hit.Lookup(cfg, p, o.MinValid, time.Now())
		if !ok || protocol.Write(&out, o.Format, cli.Credential(p, e, "cache")) != nil {
			return nil, false
		}
	case name == "exec-credential" && fs.NArg() == 0:
		info, err := protocol.ParseExecInfo(os.Getenv("KUBERNETES_EXEC_INFO"))
		if err != nil {
			return nil, false
		}
		cfg, p, ok := load(g.Config, profile)
		if !ok {
			return nil, false
		}
		e, ok := hit.Lookup(cfg, p, 0, time.Now())
		if !ok || protocol.WriteExecCredential(&out, info.APIVersion, e.AccessToken, e.ExpiresAt) != nil {
			return nil, false
		}
	case name == "git" && fs.NArg() == 1 && fs.Arg(0) == "get":
		req, ok := readGit(stdin)
		if !ok {
			return nil, false
		}
		cfg, ok := loadConfig(g.Config)
		if !ok {
			return nil, false
		}
		p, err := cfg.GitProfileFor(req.Protocol, req.Host, req.Username, g.Profile, os.Getenv("VEEAM_PROFILE"))
		if err != nil {
			return nil, false
		}
		if p == nil {
			// Not a Veeam host: nothing, and git asks its other helpers.
			return nil, true
		}
		e, ok := hit.Lookup(cfg, p, 0, time.Now())
		if !ok {
			return nil, false
		}
		a := protocol.GitAnswer{Username: p.Identity(), Password: e.AccessToken, PasswordExpiry: e.ExpiresAt}
		if req.HasCapability("authtype") {
			a.AuthType, a.Credential = "Bearer", e.AccessToken
		}
		if protocol.WriteGit(&out, a) != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	return out.Bytes(), true
}

func newFlagSet(g *cli.Globals) *flag.FlagSet {
	fs := flag.NewFlagSet("veeam-credential-helper", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	g.Register(fs)
	return fs
}

// readStdin reads the request as the engine would (at most
// protocol.MaxInput+1 bytes: more is the engine's error to report) and keeps
// it for the engine. A read error is the engine's to report too: then only
// what was read, if anything, is kept (nothing kept: the engine reads fd 0
// as it is).
func readStdin(keep *[]byte) ([]byte, bool) {
	b, err := io.ReadAll(io.LimitReader(os.Stdin, protocol.MaxInput+1))
	if err != nil {
		if len(b) > 0 {
			*keep = b
		}
		return nil, false
	}
	*keep = b
	return b, true
}

// readGit reads git's request as the engine does, up to its blank line
// (stdin may stay open after it), and keeps what was read for the engine.
// A read error is the engine's to report, as in readStdin.
func readGit(keep *[]byte) (protocol.GitRequest, bool) {
	r := &recordingReader{r: os.Stdin, read: []byte{}}
	req, err := protocol.ReadGit(r)
	if r.err != nil {
		if len(r.read) > 0 {
			*keep = r.read
		}
		return req, false
	}
	*keep = r.read
	return req, err == nil
}

// recordingReader keeps every byte read through it and the first error
// other than io.EOF.
type recordingReader struct {
	r    io.Reader
	read []byte
	err  error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.read = append(r.read, p[:n]...)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

func loadConfig(path string) (*config.Config, bool) {
	if path == "" {
		path = os.Getenv("VEEAM_CREDENTIAL_HELPER_CONFIG")
	}
	if path == "" {
		path = config.DefaultConfigPath()
	}
	cfg, err := config.Load(path)
	return cfg, err == nil
}

func load(path, profile string) (*config.Config, *config.Profile, bool) {
	cfg, ok := loadConfig(path)
	if !ok {
		return nil, nil, false
	}
	p, err := cfg.Profile(profile)
	return cfg, p, err == nil
}
