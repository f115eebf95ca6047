package goplugin

import (
	"os/exec"
	"testing"
)

func goListDeps(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	return "\n" + string(out)
}
