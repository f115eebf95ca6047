// Package completion writes shell completion scripts for
// veeam-credential-helper: commands, their flags, profile names, formats,
// products. The scripts are written here by hand from the command table
// rather than by a completion library: the commands are parsed by the
// standard flag package, and a library such as cobra would mean replacing
// that parsing (and linking it into every program) for a few dozen lines of
// shell. Profile names come from `veeam-credential-helper completion
// --profiles`, so a changed configuration completes at once.
package completion

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Values kinds a flag can complete to.
const (
	Profiles = "profiles"
	Formats  = "formats"
	Products = "products"
	Files    = "files"
	Shells   = "shells"
)

// Flag is one flag as the user types it.
type Flag struct {
	Long   string // "profile"
	Short  string // "p"
	Value  bool   // takes a value
	Values string // what the value completes to (Profiles, …), "" for nothing
}

// Command is one command, its flags and the words it takes after them.
type Command struct {
	Name  string
	Flags []Flag
	Args  []string // fixed words ("get", "store", "erase" for git)
}

// Spec is what the scripts complete.
type Spec struct {
	Program  string // "veeam-credential-helper"
	Global   []Flag
	Commands []Command
	Formats  []string
	Products []string
}

// ShellNames lists the shells Write knows.
func ShellNames() []string { return []string{"bash", "zsh", "fish", "powershell"} }

// Write writes the completion script for shell.
func Write(w io.Writer, shell string, s Spec) error {
	sort.Slice(s.Commands, func(i, j int) bool { return s.Commands[i].Name < s.Commands[j].Name })
	var b strings.Builder
	switch shell {
	case "bash":
		writeBash(&b, s)
	case "zsh":
		// zsh runs the bash function through its bashcompinit layer: one
		// implementation of the rules for both shells.
		b.WriteString("#compdef " + s.Program + "\nautoload -U +X bashcompinit && bashcompinit\n")
		writeBash(&b, s)
	case "fish":
		writeFish(&b, s)
	case "powershell":
		writePowerShell(&b, s)
	default:
		return fmt.Errorf("unknown shell %q (known: %s)", shell, strings.Join(ShellNames(), ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func flagWords(fs []Flag) []string {
	var out []string
	for _, f := range fs {
		out = append(out, "--"+f.Long)
		if f.Short != "" {
			out = append(out, "-"+f.Short)
		}
	}
	return out
}

func commandNames(s Spec) []string {
	var out []string
	for _, c := range s.Commands {
		out = append(out, c.Name)
	}
	return out
}

// valueFlags groups the flags that take a value by what they complete to.
func valueFlags(s Spec) map[string][]string {
	m := map[string][]string{}
	add := func(f Flag) {
		if !f.Value {
			return
		}
		words := flagWords([]Flag{f})
		m[f.Values] = append(m[f.Values], words...)
	}
	for _, f := range s.Global {
		add(f)
	}
	for _, c := range s.Commands {
		for _, f := range c.Flags {
			add(f)
		}
	}
	for k, v := range m {
		sort.Strings(v)
		m[k] = dedupe(v)
	}
	return m
}

func dedupe(v []string) []string {
	out := v[:0]
	for i, s := range v {
		if i == 0 || s != v[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func fnName(program string) string {
	return "_" + strings.NewReplacer("-", "_", ".", "_").Replace(program)
}

func writeBash(b *strings.Builder, s Spec) {
	fn := fnName(s.Program)
	vf := valueFlags(s)
	pat := func(kind string) string { return strings.Join(vf[kind], "|") }
	fmt.Fprintf(b, `# bash completion for %[1]s: source it, or put it in
# ~/.local/share/bash-completion/completions/%[1]s
%[2]s() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd="" config="" i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --config) config=${COMP_WORDS[i+1]}; ((i++)) ;;
            --config=*) config=${w#--config=} ;;
            %[3]s) ((i++)) ;;
            -*) ;;
            *) [[ -z $cmd ]] && cmd=$w ;;
        esac
    done
    case $prev in
`, s.Program, fn, strings.Join(allValueFlags(vf), "|"))
	if p := pat(Profiles); p != "" {
		fmt.Fprintf(b, "        %s)\n            COMPREPLY=($(compgen -W \"$(%s ${config:+--config \"$config\"} completion --profiles 2>/dev/null)\" -- \"$cur\")); return ;;\n", p, s.Program)
	}
	if p := pat(Formats); p != "" {
		fmt.Fprintf(b, "        %s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", p, strings.Join(s.Formats, " "))
	}
	if p := pat(Products); p != "" {
		fmt.Fprintf(b, "        %s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", p, strings.Join(s.Products, " "))
	}
	if p := pat(Files); p != "" {
		fmt.Fprintf(b, "        %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", p)
	}
	if p := pat(""); p != "" {
		fmt.Fprintf(b, "        %s) COMPREPLY=(); return ;;\n", p)
	}
	fmt.Fprintf(b, "    esac\n    if [[ -z $cmd ]]; then\n        if [[ $cur == -* ]]; then\n            COMPREPLY=($(compgen -W %q -- \"$cur\"))\n        else\n            COMPREPLY=($(compgen -W %q -- \"$cur\"))\n        fi\n        return\n    fi\n    local flags=%q args=\"\"\n    case $cmd in\n",
		strings.Join(append(flagWords(s.Global), "--help", "--version"), " "), strings.Join(append(commandNames(s), "help"), " "), strings.Join(append(flagWords(s.Global), "--help"), " "))
	for _, c := range s.Commands {
		if len(c.Flags) == 0 && len(c.Args) == 0 {
			continue
		}
		fmt.Fprintf(b, "        %s) flags+=%q; args=%q ;;\n", c.Name, " "+strings.Join(flagWords(c.Flags), " "), strings.Join(c.Args, " "))
	}
	fmt.Fprintf(b, `    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$args" -- "$cur"))
    fi
}
complete -o default -F %s %s
`, fn, s.Program)
}

func allValueFlags(vf map[string][]string) []string {
	var out []string
	for _, v := range vf {
		out = append(out, v...)
	}
	sort.Strings(out)
	return dedupe(out)
}

func writeFish(b *strings.Builder, s Spec) {
	p := s.Program
	fmt.Fprintf(b, "# fish completion for %[1]s: put it in ~/.config/fish/completions/%[1]s.fish\ncomplete -c %[1]s -f\n", p)
	values := func(f Flag) string {
		switch f.Values {
		case Profiles:
			return fmt.Sprintf(" -x -a '(%s completion --profiles 2>/dev/null)'", p)
		case Formats:
			return " -x -a '" + strings.Join(s.Formats, " ") + "'"
		case Products:
			return " -x -a '" + strings.Join(s.Products, " ") + "'"
		case Files:
			return " -r -F"
		}
		if f.Value {
			return " -x"
		}
		return ""
	}
	flag := func(cond string, f Flag) {
		fmt.Fprintf(b, "complete -c %s%s -l %s", p, cond, f.Long)
		if f.Short != "" {
			fmt.Fprintf(b, " -s %s", f.Short)
		}
		b.WriteString(values(f) + "\n")
	}
	for _, f := range s.Global {
		flag("", f)
	}
	fmt.Fprintf(b, "complete -c %s -n __fish_use_subcommand -a '%s'\n", p, strings.Join(commandNames(s), " "))
	for _, c := range s.Commands {
		cond := " -n '__fish_seen_subcommand_from " + c.Name + "'"
		for _, f := range c.Flags {
			flag(cond, f)
		}
		if len(c.Args) > 0 {
			fmt.Fprintf(b, "complete -c %s%s -a '%s'\n", p, cond, strings.Join(c.Args, " "))
		}
	}
}

func psList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", "''") + "'"
	}
	return "@(" + strings.Join(q, ", ") + ")"
}

func writePowerShell(b *strings.Builder, s Spec) {
	vf := valueFlags(s)
	fmt.Fprintf(b, "# PowerShell completion for %[1]s: dot-source it from your $PROFILE\nRegister-ArgumentCompleter -Native -CommandName '%[1]s', '%[1]s.exe' -ScriptBlock {\n", s.Program)
	b.WriteString("    param($wordToComplete, $commandAst, $cursorPosition)\n")
	b.WriteString("    $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })\n")
	b.WriteString("    if ($wordToComplete -ne '' -and $words.Count -gt 0) { $words = @($words | Select-Object -SkipLast 1) }\n")
	b.WriteString("    $prev = if ($words.Count -gt 0) { $words[-1] } else { '' }\n")
	fmt.Fprintf(b, "    $valueFlags = %s\n", psList(allValueFlags(vf)))
	b.WriteString("    $cmd = ''\n    for ($i = 0; $i -lt $words.Count; $i++) {\n        if ($valueFlags -contains $words[$i]) { $i++; continue }\n        if (-not $words[$i].StartsWith('-')) { $cmd = $words[$i]; break }\n    }\n")
	b.WriteString("    $candidates = @()\n")
	fmt.Fprintf(b, "    if (%s -contains $prev) { $candidates = @(& '%s' completion --profiles 2>$null) }\n", psList(vf[Profiles]), s.Program)
	fmt.Fprintf(b, "    elseif (%s -contains $prev) { $candidates = %s }\n", psList(vf[Formats]), psList(s.Formats))
	fmt.Fprintf(b, "    elseif (%s -contains $prev) { $candidates = %s }\n", psList(vf[Products]), psList(s.Products))
	fmt.Fprintf(b, "    elseif ($cmd -eq '') { $candidates = if ($wordToComplete.StartsWith('-')) { %s } else { %s } }\n",
		psList(append(flagWords(s.Global), "--help", "--version")), psList(commandNames(s)))
	b.WriteString("    else {\n        $flags = " + psList(append(flagWords(s.Global), "--help")) + "\n        switch ($cmd) {\n")
	for _, c := range s.Commands {
		fmt.Fprintf(b, "            '%s' { $flags += %s; $args2 = %s }\n", c.Name, psList(flagWords(c.Flags)), psList(c.Args))
	}
	b.WriteString("        }\n        $candidates = if ($wordToComplete.StartsWith('-')) { $flags } else { $args2 }\n    }\n")
	b.WriteString("    $candidates | Where-Object { $_ -like \"$wordToComplete*\" } | ForEach-Object {\n        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)\n    }\n}\n")
}
