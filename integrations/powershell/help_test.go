package powershell_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

func readModule(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(here(t), "VeeamCredentialHelper", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	exportedRE  = regexp.MustCompile(`(?m)^\s*'([A-Za-z]+-[A-Za-z]+)',?$`)
	helpParamRE = regexp.MustCompile(`(?m)^\s*\.PARAMETER\s+(\w+)\s*$`)
	// A parameter's line inside param( ... ): optional [attributes], then $Name.
	paramRE = regexp.MustCompile(`(?m)^\s*(?:\[[^\]]*\]\s*)*\$(\w+)\b`)
)

// moduleFunction returns the comment-based help and the param( ) block of
// the function name in the module text.
func moduleFunction(t *testing.T, module, name string) (help, params string) {
	t.Helper()
	i := strings.Index(module, "function "+name+" {\n")
	if i < 0 {
		t.Fatalf("the module has no function %s", name)
	}
	body := module[i:]
	h0, h1 := strings.Index(body, "<#"), strings.Index(body, "#>")
	p0 := strings.Index(body, "    param(\n")
	if h0 < 0 || h1 < h0 || p0 < h1 {
		t.Fatalf("%s: no comment-based help before its param( block", name)
	}
	p1 := strings.Index(body[p0:], "\n    )\n")
	if p1 < 0 {
		t.Fatalf("%s: param( block not closed", name)
	}
	return body[h0:h1], body[p0 : p0+p1]
}

func names(re *regexp.Regexp, text string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// TestHelpDocumentsEveryParameter: Get-Help shows .PARAMETER entries only for
// the parameters the help names, so every exported function documents each
// of its parameters, and no parameter that no longer exists.
func TestHelpDocumentsEveryParameter(t *testing.T) {
	manifest := readModule(t, "VeeamCredentialHelper.psd1")
	module := readModule(t, "VeeamCredentialHelper.psm1")
	exported := names(exportedRE, manifest)
	if len(exported) != 3 {
		t.Fatalf("FunctionsToExport = %v, want the module's 3 functions", exported)
	}
	for _, fn := range exported {
		help, params := moduleFunction(t, module, fn)
		got, want := names(helpParamRE, help), names(paramRE, params)
		if len(want) == 0 {
			t.Errorf("%s: found no parameters in its param( block", fn)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: help documents %v, parameters are %v", fn, got, want)
		}
		for _, section := range []string{".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"} {
			if !strings.Contains(help, section) {
				t.Errorf("%s: help has no %s", fn, section)
			}
		}
	}
}

// TestManifestNamesEveryProduct: the gallery shows the manifest's
// description; it names every product the helper knows.
func TestManifestNamesEveryProduct(t *testing.T) {
	manifest := readModule(t, "VeeamCredentialHelper.psd1")
	description := regexp.MustCompile(`(?m)^\s*Description\s*=\s*'([^']*)'`).FindStringSubmatch(manifest)
	if description == nil {
		t.Fatal("the manifest has no Description")
	}
	for _, p := range config.ProductNames() {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(p) + `\b`).MatchString(description[1]) {
			t.Errorf("the manifest's Description does not name product %q", p)
		}
	}
}
