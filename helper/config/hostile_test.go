package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
)

const oneProfile = "[profiles.a]\nproduct = \"vb365\"\nurl = \"https://h\"\nusername = \"u\"\n"

// Errors never quote a value: an unquoted password is a syntax error.
func TestParseErrorsQuoteNoValue(t *testing.T) {
	for _, text := range []string{
		oneProfile + "password = hunter2secret\n",
		oneProfile + "password_env = hunter2secret\n",
		oneProfile + "password = 'hunter2secret\n",
		oneProfile + "password = \"hunter2secret\n",
		oneProfile + "timeout = 0x hunter2secret\n",
		oneProfile + "timeout = 12hunter2secret\n",
		oneProfile + "git_hosts = [hunter2secret]\n",
		oneProfile + "username = \"hunter2secret\"\nusername = \"x\"\n",
		"hunter2secret\n" + oneProfile,
		oneProfile + "refresh_before = 1.5e+hunter2secret\n",
	} {
		_, err := Parse([]byte(text))
		if err == nil {
			t.Fatalf("%q: no error", text)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "\n") {
			t.Errorf("error quotes the value: %v", err)
		}
		if exitcode.AsError(err).Exit != exitcode.Usage {
			t.Errorf("%v: exit %d", err, exitcode.AsError(err).Exit)
		}
	}
}

// Hostile or broken files: a one-line usage error or a correct answer,
// never a crash or a hang.
func TestHostileFiles(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "[profiles.p%05d]\nproduct = \"vb365\"\nurl = \"https://vb%d.example:4443\"\nusername = \"u\"\n", i, i)
		}
		return b.String()
	}
	thousandKeys := oneProfile
	for i := range 1000 {
		thousandKeys += fmt.Sprintf("key%d = \"v\"\n", i)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"16000-deep array", oneProfile + "git_hosts = " + strings.Repeat("[", 16000) + strings.Repeat("]", 16000) + "\n", "nested deeper than 16"},
		{"16000-deep array, unclosed", oneProfile + "x = " + strings.Repeat("[", 16000), "line 5: arrays or inline tables nested deeper than 16"},
		{"deep inline tables", oneProfile + "x = " + strings.Repeat("{a = ", 5000) + "1" + strings.Repeat("}", 5000), "nested deeper"},
		{"brackets in strings and comments", oneProfile + "# " + strings.Repeat("[", 100) + "\nusername_x = \"" + strings.Repeat("[", 100) + "\"\n", `unknown configuration key "profiles.a.username_x"`},
		{"10 MB", oneProfile + "# " + strings.Repeat("x", 10<<20) + "\n", "larger than 4 MiB"},
		{"duplicate profile", oneProfile + oneProfile, "Key 'profiles.a' has already been defined"},
		{"1000 keys", thousandKeys, `line 5: unknown configuration key "profiles.a.key`},
		{"10000 profiles", many(10000), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if tc.want == "" {
				if err != nil || len(cfg.Profiles) != 10000 {
					t.Fatalf("%v", err)
				}
				p, err := cfg.GitProfile("https", "vb9999.example:4443", "", "")
				if err != nil || p == nil || p.Name != "p09999" {
					t.Fatalf("git host of the last profile: %v %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") ||
				!strings.HasPrefix(err.Error(), path+": ") || exitcode.AsError(err).Exit != exitcode.Usage {
				t.Fatalf("error %v, want one line with %q", err, tc.want)
			}
		})
	}
}
