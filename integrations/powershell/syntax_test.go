// Package powershell_test checks that the PowerShell module, its Pester
// tests and helper scripts parse under a real PowerShell grammar: the
// tree-sitter PowerShell grammar (.wasm from the tree-sitter-powershell npm
// package) run by web-tree-sitter in node, since pwsh cannot be installed on
// the CI machines. `npm ci` in tests/ is done by .ci/run.
package powershell_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

func inCI() bool { v := os.Getenv("CI"); return v != "" && v != "false" && v != "0" }

func here(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Dir(file)
}

// parser returns node and the parse.js directory, skipping (outside CI) or
// failing (in CI) when node or the npm packages are missing.
func parser(t *testing.T) (node, dir string) {
	t.Helper()
	dir = filepath.Join(here(t), "tests")
	node, err := exec.LookPath("node")
	if err != nil {
		if inCI() {
			t.Fatalf("node is required in CI for the PowerShell syntax check: %v", err)
		}
		t.Skip("node not installed")
	}
	for _, pkg := range []string{"web-tree-sitter/package.json", "tree-sitter-powershell/tree-sitter-powershell.wasm"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			if inCI() {
				t.Fatalf("npm packages missing (.ci/run runs `npm ci --ignore-scripts` in %s): %v", dir, err)
			}
			t.Skipf("npm packages missing: run `npm ci --ignore-scripts` in %s", dir)
		}
	}
	return node, dir
}

func runParse(t *testing.T, node, dir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"parse.js"}, args...)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("node parse.js: %v\n%s", err, out.String())
	}
	return out.String(), 0
}

// powershellFiles lists the .ps1/.psm1/.psd1 files under integrations/powershell.
func powershellFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	root := here(t)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".ps1", ".psm1", ".psd1":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func TestPowerShellFilesParse(t *testing.T) {
	node, dir := parser(t)
	files := powershellFiles(t)
	want := map[string]bool{}
	for _, f := range files {
		want[filepath.Base(f)] = true
	}
	for _, name := range []string{"VeeamCredentialHelper.psd1", "VeeamCredentialHelper.psm1", "VeeamCredentialHelper.Tests.ps1"} {
		if !want[name] {
			t.Errorf("%s is missing from integrations/powershell", name)
		}
	}
	out, code := runParse(t, node, dir)
	if code != 0 {
		t.Fatalf("PowerShell syntax errors (exit %d):\n%s", code, out)
	}
	// Every file was parsed, none silently skipped.
	for _, f := range files {
		if !regexp.MustCompile(`(?m)^ok\s+.*` + regexp.QuoteMeta(filepath.Base(f)) + `$`).MatchString(out) {
			t.Errorf("parse.js did not report %s as parsed:\n%s", f, out)
		}
	}
	if !strings.Contains(out, " 0 with syntax errors") {
		t.Errorf("summary:\n%s", out)
	}
}

// TestSyntaxCheckCatchesErrors proves the check can fail: broken snippets
// and a broken copy of the real module are reported with their lines.
func TestSyntaxCheckCatchesErrors(t *testing.T) {
	node, dir := parser(t)
	tmp := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("good.ps1", "function Get-Fine {\n    param([string]$Name)\n    \"hello $Name\"\n}\n")
	write("unclosed-brace.ps1", "function Get-Broken {\n    param([string]$Name)\n    if ($Name) {\n        'x'\n}\n")
	write("bad-hashtable.psd1", "@{\n    ModuleVersion = '1.0.0'\n    FunctionsToExport = \n}\n")
	write("bad-operator.ps1", "$a = 1\n$b = 2\nif ($a -eq) { 'never' }\n")
	write("unterminated-string.ps1", "$x = 1\nWrite-Output \"never closed\n")

	module, err := os.ReadFile(filepath.Join(here(t), "VeeamCredentialHelper", "VeeamCredentialHelper.psm1"))
	if err != nil {
		t.Fatal(err)
	}
	// Drop the closing parenthesis of the first param( block of the real module.
	text := string(module)
	i := strings.Index(text, "    param(\n")
	j := strings.Index(text[i:], "\n    )\n")
	if i < 0 || j < 0 {
		t.Fatal("module has no param( block to break")
	}
	write("Broken.psm1", text[:i+j]+"\n"+text[i+j+len("\n    )\n"):])

	out, code := runParse(t, node, dir, tmp)
	if code != 1 {
		t.Fatalf("parse.js exit %d, want 1 (syntax errors found):\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^ok\s+.*good\.ps1$`).MatchString(out) {
		t.Errorf("the good file was not accepted:\n%s", out)
	}
	for _, name := range []string{"unclosed-brace.ps1", "bad-hashtable.psd1", "bad-operator.ps1", "unterminated-string.ps1", "Broken.psm1"} {
		if !regexp.MustCompile(`(?m)^FAIL\s+.*` + regexp.QuoteMeta(name) + `$`).MatchString(out) {
			t.Errorf("%s was not reported:\n%s", name, out)
		}
	}
	// Line numbers point at the error.
	if !strings.Contains(out, "bad-operator.ps1:3:") {
		t.Errorf("bad-operator.ps1 error not on line 3:\n%s", out)
	}
	if !regexp.MustCompile(`unclosed-brace\.ps1:\d+:\d+: missing "}"`).MatchString(out) {
		t.Errorf("unclosed brace not reported as a missing }:\n%s", out)
	}
	if !strings.Contains(out, "5 with syntax errors") {
		t.Errorf("summary:\n%s", out)
	}
}
