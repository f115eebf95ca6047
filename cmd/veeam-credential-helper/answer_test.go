package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/commands"
	"github.com/veeam-tools/veeam-credential-helper/internal/emulator"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv"
)

// stdinFile is a file holding s, as the front's stdin.
func stdinFile(t *testing.T, s string) *recordingReader {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &recordingReader{f: f}
}

// The front and the engine run the same command code in process: on a hit
// the front's answer is the engine's, byte for byte; anything else is a
// miss, with what the front read of stdin kept for the engine.
func TestAnswerInProcess(t *testing.T) {
	e := testenv.New(t)
	em := e.M365Profile(emulator.Options{}, `corp\svc-answer`, "pw-answer-in-process-0001", "VB365_ANSWER_PASSWORD", nil)
	for k, v := range e.Vars {
		t.Setenv(k, v)
	}
	env := map[string]string{cli.EnvConfig: e.ConfigPath}
	getenv := func(k string) string { return env[k] }
	engine := func(stdin string, args ...string) string {
		var out, errb bytes.Buffer
		if code := commands.Run(args, strings.NewReader(stdin), &out, &errb, getenv); code != 0 {
			t.Fatalf("engine %v: exit %d, %s", args, code, errb.String())
		}
		return out.String()
	}
	front := cli.Program{Commands: cli.HitCommands(), Source: newHitSource}
	engine("", "get") // the grant fills the cache
	host := strings.TrimPrefix(em.URL(), "https://")
	const v1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`

	for _, tc := range []struct {
		name, stdin string
		args        []string
	}{
		{"get", "", []string{"get"}},
		{"get token", "", []string{"get", "--format", "token"}},
		{"get request", `{"profile":"m365","min_valid_seconds":60}`, []string{"get", "--format", "header"}},
		// Kept while half its lifetime is left, by the front as by the engine.
		{"longer than the token lives", "", []string{"get", "--min-valid", "24h"}},
		{"exec-credential", "", []string{"exec-credential"}},
		{"git get", "capability[]=authtype\nprotocol=https\nhost=" + host + "\n\n", []string{"git", "get"}},
		{"git get another host", "protocol=https\nhost=github.com\n\n", []string{"git", "get"}},
		{"git store", "protocol=https\nhost=" + host + "\n\n", []string{"git", "store"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env["KUBERNETES_EXEC_INFO"] = v1
			defer delete(env, "KUBERNETES_EXEC_INFO")
			got, ok := cli.Answer(front, tc.args, stdinFile(t, tc.stdin), getenv)
			if want := engine(tc.stdin, tc.args...); !ok || string(got) != want {
				t.Fatalf("front %v %q, engine %q", ok, got, want)
			}
		})
	}

	for _, tc := range []struct {
		name, stdin string
		args        []string
		replay      string // what the engine reads again; "-" for nothing
	}{
		{"debug", "", []string{"--debug", "get"}, "-"},
		{"force refresh", "", []string{"get", "--force-refresh"}, ""},
		{"force refresh in the request", `{"force_refresh":true}`, []string{"get"}, `{"force_refresh":true}`},
		{"request with an unknown key", `{"bogus":1}`, []string{"get"}, `{"bogus":1}`},
		{"no stdin", `{"force_refresh":true}`, []string{"get", "--no-stdin", "--force-refresh"}, "-"},
		{"unknown profile", "", []string{"-p", "nope", "get", "--no-stdin"}, "-"},
		{"engine command", "", []string{"status"}, "-"},
		{"help", "", []string{"--help"}, "-"},
		{"command help", "", []string{"get", "--help"}, "-"},
		{"bad flag", "", []string{"get", "--format", "yaml", "--no-stdin"}, "-"},
		{"git erase", "protocol=https\nhost=" + host + "\n\n", []string{"git", "erase"}, "protocol=https\nhost=" + host + "\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := stdinFile(t, tc.stdin)
			if got, ok := cli.Answer(front, tc.args, stdin, getenv); ok {
				t.Fatalf("front answered %q", got)
			}
			replay := stdin.replay()
			if tc.replay == "-" && replay != nil || tc.replay != "-" && (replay == nil || string(replay) != tc.replay) {
				t.Fatalf("replay %q (nil %v), want %q", replay, replay == nil, tc.replay)
			}
		})
	}
}
