package main

import (
	"os"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

func init() {
	commands["exec-credential"] = &command{
		summary: "kubectl / client-go exec credential plugin (reads KUBERNETES_EXEC_INFO)",
		run:     runExecCredential,
	}
}

// runExecCredential is client-go's exec plugin: KUBERNETES_EXEC_INFO in,
// one ExecCredential of the same apiVersion out. Errors go to stderr only
// (client-go shows the plugin's stderr and its exit code); stdout stays
// empty so client-go never parses half an answer.
func runExecCredential(c *cmdContext) error {
	if len(c.args) > 0 {
		return exitcode.UsageError("exec-credential takes no arguments (set the profile with -p in the kubeconfig's exec.args)")
	}
	info, err := protocol.ParseExecInfo(os.Getenv("KUBERNETES_EXEC_INFO"))
	if err != nil {
		return exitcode.UsageError("%v", err)
	}
	// spec.interactive false means never prompt, whatever stdin is; true
	// still needs a terminal on stdin (c.helper checks).
	h, err := c.helper(info.Interactive)
	if err != nil {
		return err
	}
	r, err := h.Get(c.ctx, helper.Request{Profile: c.profile()})
	if err != nil {
		return err
	}
	return protocol.WriteExecCredential(c.io.out, info.APIVersion, r.AccessToken, r.ExpiresAt)
}
