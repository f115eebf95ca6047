package goplugin

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ClientConfig is the plugin.ClientConfig a host passes to plugin.NewClient
// for cmd (e.g. exec.Command("/usr/local/bin/veeam-credential-helper", "plugin")):
// our handshake and plugin set, gRPC only, automatic mTLS on the plugin
// connection, and logger (nil: the plugin's warnings and errors on stderr).
func ClientConfig(cmd *exec.Cmd, logger hclog.Logger) *plugin.ClientConfig {
	if logger == nil {
		logger = DefaultLogger(os.Stderr)
	}
	return &plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          PluginMap(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
	}
}

// DefaultLogger is a host-side logger that shows the plugin's warnings
// and errors on w.
func DefaultLogger(w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: w})
}

// ClientOptions tunes NewClient. The zero value launches `PATH plugin`
// with the host's environment.
type ClientOptions struct {
	// Args follow the binary's path; default ["plugin"]. Global flags such
	// as "--config", path go before "plugin".
	Args []string
	// Env is added to the plugin's environment (KEY=VALUE), e.g.
	// VEEAM_CREDENTIAL_HELPER_CONFIG or the file backend's passphrase.
	Env []string
	// SkipHostEnv starts the plugin with Env only, not the host's environment.
	SkipHostEnv bool
	// Logger gets the plugin's log lines (nil: warnings and errors on stderr).
	Logger hclog.Logger
	// StartTimeout bounds the handshake (default 1 minute, go-plugin's).
	StartTimeout time.Duration
}

// Client is a running plugin process and the CredentialHelper calling it.
// It is safe for concurrent use. Close it when done; after the process
// died every call fails and the host makes a new Client.
type Client struct {
	CredentialHelper
	plugin *plugin.Client
}

// NewClient launches the binary at path as a plugin, completes the
// handshake and returns a Client ready for calls. It first checks that the
// programs the plugin runs are installed, and a failed start reports the
// plugin's own last line on stderr.
func NewClient(path string, opts ClientOptions) (*Client, error) {
	args := opts.Args
	if args == nil {
		args = []string{"plugin"}
	}
	if err := checkPrograms(path, pathOf(opts.Env, opts.SkipHostEnv)); err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append([]string(nil), opts.Env...)
	cfg := ClientConfig(cmd, opts.Logger)
	cfg.SkipHostEnv = opts.SkipHostEnv
	cfg.StartTimeout = opts.StartTimeout
	tail := &stderrTail{}
	cfg.Stderr = tail
	pc := plugin.NewClient(cfg)
	ch, err := Dispense(pc)
	if err != nil {
		pc.Kill() // waits for the plugin's stderr to be read
		return nil, withPluginStderr(err, tail)
	}
	return &Client{CredentialHelper: ch, plugin: pc}, nil
}

// Dispense starts pc if needed and returns its CredentialHelper.
func Dispense(pc *plugin.Client) (CredentialHelper, error) {
	rpc, err := pc.Client()
	if err != nil {
		return nil, fmt.Errorf("start veeam-credential-helper plugin: %w", err)
	}
	raw, err := rpc.Dispense(PluginName)
	if err != nil {
		return nil, fmt.Errorf("veeam-credential-helper plugin: %w", err)
	}
	ch, ok := raw.(CredentialHelper)
	if !ok {
		return nil, fmt.Errorf("veeam-credential-helper plugin: unexpected plugin type %T", raw)
	}
	return ch, nil
}

// Close ends the plugin process. It is safe to call more than once.
func (c *Client) Close() { c.plugin.Kill() }

// Exited reports whether the plugin process has ended.
func (c *Client) Exited() bool { return c.plugin.Exited() }

// Plugin is the underlying go-plugin client (ReattachConfig, Ping, ...).
func (c *Client) Plugin() *plugin.Client { return c.plugin }

// Serve serves impl as the plugin on this process's stdio, as go-plugin
// does: it returns when the host ends the connection. stdout belongs to
// go-plugin while it runs; logger must write to stderr.
func Serve(impl CredentialHelper, logger hclog.Logger) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &Plugin{Impl: impl}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
	})
}

// LaunchedByHost reports whether the magic cookie of a go-plugin host is
// in this process's environment.
func LaunchedByHost() bool {
	return os.Getenv(MagicCookieKey) == MagicCookieValue
}
