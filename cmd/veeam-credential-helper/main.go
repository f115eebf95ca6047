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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/term"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func main() {
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

// globals mirror the engine's global flags (cmd/veeam-credential-helper-engine/cli.go).
type globals struct {
	config  string
	profile string
	debug   bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.config, "config", g.config, "")
	fs.StringVar(&g.profile, "profile", g.profile, "")
	fs.StringVar(&g.profile, "p", g.profile, "")
	fs.BoolVar(&g.debug, "debug", g.debug, "")
}

// front answers a cache hit: the bytes for stdout and true. Anything else
// is false, for the engine. *stdin gets what was read of stdin.
func front(args []string, stdin *[]byte) ([]byte, bool) {
	if _, ok := os.LookupEnv("VEEAM_CREDENTIAL_HELPER_NO_FRONT"); ok {
		return nil, false
	}
	var g globals
	gfs := newFlagSet(&g)
	if gfs.Parse(args) != nil || gfs.NArg() == 0 {
		return nil, false
	}
	name, rest := gfs.Arg(0), gfs.Args()[1:]
	fs := newFlagSet(&g)
	var format string
	var minValid time.Duration
	var forceRefresh bool
	if name == "get" {
		fs.StringVar(&format, "format", protocol.FormatJSON, "")
		fs.DurationVar(&minValid, "min-valid", 0, "")
		fs.BoolVar(&forceRefresh, "force-refresh", false, "")
	}
	if fs.Parse(rest) != nil || g.debug || forceRefresh {
		return nil, false
	}
	profile := g.profile
	if profile == "" {
		profile = os.Getenv("VEEAM_PROFILE")
	}
	var out bytes.Buffer
	switch {
	case name == "get" && fs.NArg() == 0:
		if !slices.Contains(protocol.Formats(), format) {
			return nil, false
		}
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			in := readStdin(stdin)
			jr, err := protocol.DecodeRequest(bytes.NewReader(in))
			if err != nil || jr.ForceRefresh {
				return nil, false
			}
			if jr.Profile != "" && g.profile == "" {
				profile = jr.Profile
			}
			if jr.MinValidSeconds != nil {
				minValid = time.Duration(min(*jr.MinValidSeconds, maxMinValidSeconds)) * time.Second
			}
		}
		cfg, p, ok := load(g.config, profile)
		if !ok {
			return nil, false
		}
		e, ok := hit.Lookup(cfg, p, minValid, time.Now())
		if !ok || protocol.Write(&out, format, credential(p, e)) != nil {
			return nil, false
		}
	case name == "exec-credential" && fs.NArg() == 0:
		info, err := protocol.ParseExecInfo(os.Getenv("KUBERNETES_EXEC_INFO"))
		if err != nil {
			return nil, false
		}
		cfg, p, ok := load(g.config, profile)
		if !ok {
			return nil, false
		}
		e, ok := hit.Lookup(cfg, p, 0, time.Now())
		if !ok || protocol.WriteExecCredential(&out, info.APIVersion, e.AccessToken, e.ExpiresAt) != nil {
			return nil, false
		}
	case name == "git" && fs.NArg() == 1 && fs.Arg(0) == "get":
		req, err := protocol.ReadGit(bytes.NewReader(readStdin(stdin)))
		if err != nil {
			return nil, false
		}
		cfg, ok := loadConfig(g.config)
		if !ok {
			return nil, false
		}
		p, err := cfg.GitProfile(req.Protocol, req.Host, req.Username, profile)
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

// maxMinValidSeconds is the engine's clamp of min_valid_seconds (ten years).
const maxMinValidSeconds = 10 * 365 * 24 * 3600

func newFlagSet(g *globals) *flag.FlagSet {
	fs := flag.NewFlagSet("veeam-credential-helper", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	g.register(fs)
	return fs
}

// readStdin reads the request as the engine would (at most
// protocol.MaxInput+1 bytes: more is the engine's error to report) and keeps
// it for the engine.
func readStdin(keep *[]byte) []byte {
	b, err := io.ReadAll(io.LimitReader(os.Stdin, protocol.MaxInput+1))
	*keep = b
	if err != nil && !errors.Is(err, os.ErrClosed) {
		// A read error is the engine's to report; it reads what is left.
		return nil
	}
	return b
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

// credential is the engine's answer for a cache hit (cmd/veeam-credential-helper-engine: credential).
func credential(p *config.Profile, e cache.Entry) protocol.Credential {
	return protocol.Credential{
		Profile:     p.Name,
		Product:     p.Product,
		URL:         p.URL,
		Username:    p.Identity(),
		TokenType:   "Bearer",
		AccessToken: e.AccessToken,
		ExpiresAt:   e.ExpiresAt,
		Source:      "cache",
	}
}
