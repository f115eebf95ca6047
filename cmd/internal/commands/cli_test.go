package commands

import (
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
)

// No command takes a secret as a flag (the binary refusing a secret given
// as an argument is tested in cmd/veeam-credential-helper).
func TestNoSecretInArgv(t *testing.T) {
	secretish := regexp.MustCompile(`(?i)password$|^password|secret|token$|assertion|mfa|passphrase|api-?key$`)
	for _, cmd := range table() {
		fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
		var g cli.Globals
		g.Register(fs)
		cmd.Prepare(fs)
		fs.VisitAll(func(f *flag.Flag) {
			// Boolean flags that say where to read a secret are fine.
			if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); isBool {
				return
			}
			// init --password-env VAR names a variable, never holds its value.
			if strings.HasSuffix(f.Name, "-env") {
				return
			}
			if secretish.MatchString(f.Name) {
				t.Errorf("command %s has flag --%s, which would take a secret from argv", cmd.Name, f.Name)
			}
		})
	}
}
