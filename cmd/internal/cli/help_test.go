package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

// A flag with two names is one line, GNU style, its value named.
func TestWriteFlags(t *testing.T) {
	var g Globals
	var o GetFlags
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	g.Register(fs)
	o.Register(fs)
	var b bytes.Buffer
	WriteFlags(&b, fs)
	out := b.String()
	for _, want := range []string{"  -p, --profile NAME ", "      --config PATH ", "--format FORMAT ", "(default json)", "--min-valid DUR ", "--no-stdin "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Count(out, "profile") != 2 || strings.Contains(out, "short for") || strings.Contains(out, " -profile") {
		t.Errorf("profile listed twice:\n%s", out)
	}
}
