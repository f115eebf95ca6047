package cli

import (
	"os"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

// The go-plugin handshake's magic cookie: the same strings as
// goplugin.MagicCookieKey and MagicCookieValue (TestMagicCookieCopies
// checks). They are copied because importing integrations/goplugin would
// link gRPC, protobuf and go-plugin into the engine, whose package init
// would then run on every call.
const (
	MagicCookieKey   = "VEEAM_CREDENTIAL_HELPER_PLUGIN"
	MagicCookieValue = "5a88cd38c6d0ba6482a83deb-veeam-credential-helper"
)

// CheckPluginHandshake returns nil when a go-plugin host launched this
// process (its magic cookie is in the environment), else the usage error
// for someone who ran `plugin` by hand or a host of another protocol.
func CheckPluginHandshake() error {
	switch v, ok := os.LookupEnv(MagicCookieKey); {
	case !ok:
		return exitcode.UsageError("`plugin` serves the HashiCorp go-plugin interface (integrations/goplugin) to a host program " +
			"that launches this binary; it is not meant to be run by hand. Ask for a token with `veeam-credential-helper get`")
	case v != MagicCookieValue:
		return exitcode.UsageError("%s is set but is not this version's magic cookie: the host was built for another plugin protocol", MagicCookieKey)
	}
	return nil
}
