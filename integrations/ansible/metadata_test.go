package ansible_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/veeam-tools/veeam-credential-helper/helper/config"
)

// TestMetadataNamesEveryProduct keeps the collection's description, README
// and the lookup's DOCUMENTATION in step with the products the helper knows:
// Galaxy and ansible-doc show these texts to people choosing the collection.
func TestMetadataNamesEveryProduct(t *testing.T) {
	dir := filepath.Join(collectionsPath(t), "ansible_collections", "veeam_tools", "credential_helper")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	lookup := read("plugins/lookup/token.py")
	start := strings.Index(lookup, `DOCUMENTATION = r"""`)
	if start < 0 {
		t.Fatal("token.py has no DOCUMENTATION block")
	}
	doc := lookup[start:]
	doc = doc[:strings.Index(doc[len(`DOCUMENTATION = r"""`):], `"""`)+len(`DOCUMENTATION = r"""`)]

	texts := map[string]string{
		"galaxy.yml":             read("galaxy.yml"),
		"README.md":              read("README.md"),
		"token.py DOCUMENTATION": doc,
	}
	products := config.ProductNames()
	if len(products) < 7 {
		t.Fatalf("config.ProductNames() = %v, want the 7 products", products)
	}
	for name, text := range texts {
		for _, p := range products {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(p) + `\b`).MatchString(text) {
				t.Errorf("%s does not name product %q", name, p)
			}
		}
	}
}
