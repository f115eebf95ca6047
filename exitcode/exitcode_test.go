package exitcode

import "testing"

// Every message goes through OneLine: terminal controls come out escaped.
func TestOneLineEscapesControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":                  "plain text",
		"a\nb\tc":                     "a b c",
		"\x1b]0;title\x07x":           `\x1b]0;title\x07x`,
		"del\x7f c1\u009b bidi\u202e": `del\x7f c1\u009b bidi\u202e`,
		"bad utf8 \xff":               "bad utf8 \ufffd",
		"ünïcödé ✓":                   "ünïcödé ✓",
	} {
		if got := OneLine(in, 400); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
