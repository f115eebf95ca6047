package cache

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/veeam-tools/veeam-credential-helper/internal/testenv/child"
)

// keyctlService is a fresh keyctl service name (keyring) for one test or
// benchmark, unlinked when it ends; it skips where the kernel refuses keyctl.
func keyctlService(tb testing.TB, prefix string) string {
	tb.Helper()
	if err := keyctlUsable(); err != nil {
		tb.Skipf("SKIP: the kernel refuses keyctl syscalls here (%v); keyctl backend untested", err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	service := prefix + hex.EncodeToString(rnd[:])
	tb.Cleanup(func() {
		if id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", service, 0); err == nil {
			_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
		}
	})
	return service
}

func TestKeyctl(t *testing.T) {
	service := keyctlService(t, "vch-test-")
	st, err := Open(Config{Backend: "keyctl", ServiceName: service, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Backend() != "keyctl" {
		t.Errorf("Backend() = %q", st.Backend())
	}
	k := Key("vb365", "u", "", "", "", "")
	if _, err := st.Get(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if err := st.Set(k, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := st.Set(k, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := st.Set(k+".password", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(k); err != nil || !bytes.Equal(got, []byte("two")) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// A second Open (as the next process would) finds the same keyring.
	st2, err := Open(Config{Backend: "keyctl", ServiceName: service})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st2.Get(k); err != nil || string(got) != "two" {
		t.Errorf("second Open: %q, %v", got, err)
	}
	// Another process, in a session keyring not linked to the user keyring
	// (as in containers or some ssh/sudo setups), sees it too.
	out, err := child.Command(childEnv, "keyctl-get", "VCH_SERVICE="+service, "VCH_KEY="+k).Output()
	if err != nil || !strings.Contains(string(out), "value=two err=<nil>") {
		t.Errorf("child in another session keyring: %s %v", out, err)
	}

	if err := st.Remove(k); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(k); err != nil {
		t.Errorf("Remove missing: %v", err)
	}
	if _, err := st.Get(k); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Remove: %v", err)
	}
	if got, err := st.Get(k + ".password"); err != nil || string(got) != "pw" {
		t.Errorf("Remove touched another key: %q, %v", got, err)
	}
}

// joinAnonymousSessionKeyring gives the calling thread (locked to this
// goroutine) a new session keyring that is not linked to the user keyring.
func joinAnonymousSessionKeyring() error {
	runtime.LockOSThread()
	_, err := unix.KeyctlJoinSessionKeyring("vch-test-session-" + strconv.Itoa(os.Getpid()))
	return err
}

// A full key quota is named as such, with where to look, not only as the
// kernel's "disk quota exceeded"; it stays an unavailable cache (exit 6).
func TestKeyctlQuotaFullMessage(t *testing.T) {
	err := quotaFull(unix.EDQUOT, "cannot write to the keyctl keyring")
	if !IsUnavailable(err) || !errors.Is(err, unix.EDQUOT) {
		t.Fatalf("%#v", err)
	}
	for _, want := range []string{"kernel key quota is full", "keyctl show @u", "kernel.keys.maxbytes", "disk quota exceeded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}
