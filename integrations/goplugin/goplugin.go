// Package goplugin is the HashiCorp go-plugin integration of
// veeam-credential-helper: the handshake, the Go interface, the gRPC glue
// for both sides and a client constructor for host programs.
//
// A host launches the veeam-credential-helper binary once and asks it for
// tokens over gRPC; the binary keeps the encrypted cache and the
// cross-process lock, so a host links neither keyring code nor secrets
// handling, and a crash on either side stays contained.
//
//	c, err := goplugin.NewClient("/usr/local/bin/veeam-credential-helper", goplugin.ClientOptions{})
//	if err != nil { ... }
//	defer c.Close()
//	cred, err := c.GetCredential(ctx, goplugin.Request{Profile: "m365", MinValid: 5 * time.Minute})
//
// (ExampleNewClient runs it.) Answers are protocol.Credential values, the
// type `get` writes; failures the helper reports are *exitcode.Error values
// with the command line's exit code and message.
//
// This package does not import the engine (package helper): the serving
// side backed by the engine is in goplugin/server.
package goplugin

import (
	"github.com/hashicorp/go-plugin"
)

// Handshake values: a host and the binary must agree on all three.
const (
	// ProtocolVersion is the plugin protocol version; bump it on an
	// incompatible change of the service.
	ProtocolVersion = 1
	// MagicCookieKey is the environment variable go-plugin sets in the
	// plugin's environment. Its presence makes the binary serve the plugin.
	MagicCookieKey = "VEEAM_CREDENTIAL_HELPER_PLUGIN"
	// MagicCookieValue is the fixed value of MagicCookieKey. It is not a
	// secret: it only tells the binary that a go-plugin host launched it.
	MagicCookieValue = "5a88cd38c6d0ba6482a83deb-veeam-credential-helper"
)

// Handshake is the go-plugin handshake of veeam-credential-helper.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// PluginName is the name hosts Dispense.
const PluginName = "credential_helper"

// PluginMap is the plugin set for a host's plugin.ClientConfig.
func PluginMap() plugin.PluginSet {
	return plugin.PluginSet{PluginName: &Plugin{}}
}
