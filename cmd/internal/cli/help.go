package cli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteFlags lists fs's flags GNU style: one line per flag however many
// names it has ("-p, --profile NAME"), the value named by the `NAME` in
// backquotes of its usage (else by its type), defaults shown when set.
func WriteFlags(w io.Writer, fs *flag.FlagSet) {
	type entry struct {
		names []string
		f     *flag.Flag
	}
	var entries []*entry
	byValue := map[flag.Value]*entry{}
	fs.VisitAll(func(f *flag.Flag) {
		// -p and --profile are two flag.Flags over one variable: the
		// same Value.
		if e, ok := byValue[f.Value]; ok {
			e.names = append(e.names, f.Name)
			if len(f.Name) > len(e.f.Name) {
				e.f = f
			}
			return
		}
		e := &entry{names: []string{f.Name}, f: f}
		entries = append(entries, e)
		byValue[f.Value] = e
	})
	lines := make([][2]string, 0, len(entries))
	for _, e := range entries {
		sort.Slice(e.names, func(i, j int) bool { return len(e.names[i]) < len(e.names[j]) })
		var names []string
		for _, n := range e.names {
			if len(n) == 1 {
				names = append(names, "-"+n)
			} else {
				names = append(names, "--"+n)
			}
		}
		left := strings.Join(names, ", ")
		if len(e.names[0]) > 1 {
			left = "    " + left // long-only flags line up after "-p, "
		}
		value, usage := flag.UnquoteUsage(e.f)
		if isBool(e.f) {
			value = ""
		} else if value != "" {
			value = " " + strings.ToUpper(value)
		}
		if d := e.f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		lines = append(lines, [2]string{left + value, usage})
	}
	sort.Slice(lines, func(i, j int) bool {
		return strings.TrimLeft(lines[i][0], " -") < strings.TrimLeft(lines[j][0], " -")
	})
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
	}
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Examples are one or two typical calls of each command, shown by its --help.
var Examples = map[string][]string{
	"get": {
		"veeam-credential-helper get -p prod --format token",
		`curl -K <(veeam-credential-helper get --format curl --no-stdin) "$URL/v8/Organizations"`,
	},
	"exec": {
		`veeam-credential-helper exec -p prod -- sh -c 'curl -H "Authorization: Bearer $VEEAM_ACCESS_TOKEN" "$VEEAM_API_URL/api/v1/serverTime"'`,
		"veeam-credential-helper exec --min-valid 10m -- ansible-playbook site.yml",
	},
	"exec-credential": {"kubectl config set-credentials veeam --exec-api-version=client.authentication.k8s.io/v1 --exec-command=veeam-credential-helper --exec-arg=exec-credential"},
	"git":             {`git config --global credential.helper "/usr/local/bin/veeam-credential-helper git"`},
	"login":           {"veeam-credential-helper login -p prod", "pass show vb365 | veeam-credential-helper login -p prod --password-stdin"},
	"logout":          {"veeam-credential-helper logout -p prod", "veeam-credential-helper logout --all --forget-password"},
	"status":          {"veeam-credential-helper status", "veeam-credential-helper status -p 'vb*' --json"},
	"auth-code":       {"veeam-credential-helper auth-code -p m365"},
	"plugin":          {"example-host -plugin \"$(command -v veeam-credential-helper)\" -profile prod"},
	"init": {
		"veeam-credential-helper init --product vbr --url https://vbr.example.com --username 'CORP\\ops' --password-env VBR_PASSWORD",
		"veeam-credential-helper init   # asks for each value on a terminal",
	},
	"demo":       {"veeam-credential-helper demo", "veeam-credential-helper demo --serve   # then paste its export lines into another shell"},
	"completion": {"source <(veeam-credential-helper completion bash)", "veeam-credential-helper completion fish > ~/.config/fish/completions/veeam-credential-helper.fish"},
	"version":    {"veeam-credential-helper --version"},
}

// WriteCommandHelp is a command's --help: usage line, summary, flags, examples.
func WriteCommandHelp(w io.Writer, name, usage, summary string, fs *flag.FlagSet) {
	if usage == "" {
		usage = "[flags]"
	}
	fmt.Fprintf(w, "Usage: veeam-credential-helper %s %s\n\n%s\n\nFlags (global flags too, before or after the command):\n", name, usage, summary)
	WriteFlags(w, fs)
	if ex := Examples[name]; len(ex) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range ex {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}
