//go:build linux || darwin

package hit_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
)

// A FIFO planted at the index path is refused at once: opened for reading
// it would wait for a writer, and every call would hang.
func TestFIFOIndex(t *testing.T) {
	path := writeConfig(t, profilesText(1))
	file := indexOf(t, path)
	must(t, os.Remove(file))
	must(t, syscall.Mkfifo(file, 0o600))
	opened := make(chan bool, 1)
	go func() {
		ix, ok := hit.Open(path)
		if ok {
			ix.Close()
		}
		opened <- ok
	}()
	select {
	case ok := <-opened:
		if ok {
			t.Error("a FIFO index is trusted")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO index waits for a writer")
	}
}
