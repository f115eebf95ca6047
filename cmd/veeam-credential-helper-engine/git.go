package main

import (
	"io"
	"os"
	"strings"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func init() {
	commands["git"] = &command{
		summary: "git credential helper: get | store | erase (credential.helper = \"/path/veeam-credential-helper git\")",
		usage:   "get|store|erase",
		run:     runGit,
	}
}

// runGit answers git's credential helper protocol
// (https://git-scm.com/docs/gitcredentials#_custom_helpers). A host no
// profile matches gets no answer and exit 0, so git asks its other helpers.
func runGit(c *cmdContext) error {
	if len(c.args) != 1 {
		return exitcode.UsageError("usage: veeam-credential-helper git get|store|erase (git runs it; see README: git)")
	}
	in := io.Reader(c.io.in)
	if c.io.in == nil {
		in = strings.NewReader("")
	}
	switch c.args[0] {
	case "get", "erase":
	default:
		// store (our tokens live in our own cache) and any action a later
		// git adds: read the description and ignore it, as git asks.
		_, _ = io.Copy(io.Discard, io.LimitReader(in, protocol.MaxInput))
		return nil
	}
	req, err := protocol.ReadGit(in)
	if err != nil {
		return exitcode.UsageError("%v", err)
	}
	// git's stdin is its pipe: never prompt.
	h, err := c.helper(false)
	if err != nil {
		return err
	}
	p, err := h.Config.GitProfileFor(req.Protocol, req.Host, req.Username, c.g.Profile, os.Getenv("VEEAM_PROFILE"))
	if err != nil || p == nil {
		return err
	}
	if c.args[0] == "erase" {
		// git rejected the token: drop the cached access token (unless a
		// concurrent caller already renewed it); the next get refreshes.
		rejected := req.Password
		if req.Credential != "" {
			rejected = req.Credential
		}
		return h.InvalidateToken(c.ctx, p.Name, rejected)
	}
	r, err := h.Get(c.ctx, helper.Request{Profile: p.Name})
	if err != nil {
		return err
	}
	a := protocol.GitAnswer{
		Username:       p.Identity(),
		Password:       r.AccessToken,
		PasswordExpiry: r.ExpiresAt,
	}
	if req.HasCapability("authtype") {
		a.AuthType, a.Credential = "Bearer", r.AccessToken
	}
	return protocol.WriteGit(c.io.out, a)
}
