package keychain

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/keyring"
	"golang.org/x/sys/unix"

	"github.com/veeam-tools/veeam-credential-helper/cache"
	"github.com/veeam-tools/veeam-credential-helper/cache/keychain/internal/dbusguard"
	"github.com/veeam-tools/veeam-credential-helper/internal/testenv/child"
)

const childEnv = "VCH_KEYCHAIN_TEST_CHILD"

// TestChildProcess is the body of the child processes some tests start
// (the test binary re-executed); it does nothing in a normal run.
func TestChildProcess(t *testing.T) {
	switch mode := os.Getenv(childEnv); mode {
	case "":
		t.Skip("helper process")
	case "dbusguard":
		// Run with DBUS_SESSION_BUS_ADDRESS unset and a fake dbus-launch on
		// PATH: keyring's init must not have run it, and the variable must
		// be unset again.
		if v, ok := os.LookupEnv("DBUS_SESSION_BUS_ADDRESS"); ok {
			fmt.Printf("error: DBUS_SESSION_BUS_ADDRESS=%q after init\n", v)
			os.Exit(1)
		}
		fmt.Println("ok")
		os.Exit(0)
	default:
		t.Fatalf("unknown mode %q", mode)
	}
}

func TestAutoWithoutDBus(t *testing.T) {
	if dbusguard.SessionAvailable() {
		t.Skip("this process has a D-Bus session address")
	}
	st, err := Open(cache.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Backend() != "file" {
		t.Errorf("auto without D-Bus picked %q, want file", st.Backend())
	}
	for _, b := range []string{"secret-service", "kwallet"} {
		_, err := Open(cache.Config{Backend: b, Dir: t.TempDir()})
		if !cache.IsUnavailable(err) || !strings.Contains(err.Error(), "D-Bus") {
			t.Errorf("%s without D-Bus: %v", b, err)
		}
	}
}

// keyring's init calls dbus.SessionBus(), which without
// DBUS_SESSION_BUS_ADDRESS execs dbus-launch. The guard must prevent that
// and leave the environment as it was.
func TestDBusGuard(t *testing.T) {
	bin := t.TempDir()
	marker := filepath.Join(bin, "dbus-launch-ran")
	script := "#!/bin/sh\ntouch '" + marker + "'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := child.Command(childEnv, "dbusguard", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var env []string
	for _, e := range cmd.Env {
		if !strings.HasPrefix(e, "DBUS_SESSION_BUS_ADDRESS=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("child: %s %v", out, err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dbus-launch was run during package init")
	}

	// Without the guard, a program importing only keyring runs the fake
	// dbus-launch twice (secret-service's and kwallet's init).
}

func testService(t *testing.T) string {
	t.Helper()
	if _, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true); err != nil {
		t.Skipf("SKIP: the kernel refuses keyctl syscalls here (%v); keyctl compatibility untested", err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	service := "vch-test-" + hex.EncodeToString(rnd[:])
	t.Cleanup(func() {
		if id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", service, 0); err == nil {
			_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
		}
	})
	return service
}

// keyctlKeyring opens keyring's keyctl backend as the helper configured it
// before package cache had its own keyctl store.
func keyctlKeyring(t *testing.T, service string) keyring.Keyring {
	t.Helper()
	kr, err := keyring.Open(keyring.Config{
		AllowedBackends: []keyring.BackendType{keyring.KeyCtlBackend},
		ServiceName:     service,
		KeyCtlScope:     "user",
		KeyCtlPerm:      keyring.GetPermissions(keyring.KEYCTL_PERM_ALL, keyring.KEYCTL_PERM_ALL, 0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// describe is "type;uid;gid;perm" of the key or keyring found by search.
func describe(t *testing.T, ring int, typ, desc string) string {
	t.Helper()
	id, err := unix.KeyctlSearch(ring, typ, desc, 0)
	if err != nil {
		t.Fatalf("search %s %q: %v", typ, desc, err)
	}
	s, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		t.Fatal(err)
	}
	return s[:strings.LastIndex(s, ";")]
}

// Items in the kernel keyring stay compatible with keyring's keyctl backend,
// both ways, whichever created the named keyring, with the same permissions.
func TestKeyctlKeyringCompat(t *testing.T) {
	for _, keyringFirst := range []bool{false, true} {
		service := testService(t)
		var kr keyring.Keyring
		if keyringFirst {
			kr = keyctlKeyring(t, service)
		}
		st, err := Open(cache.Config{Backend: "keyctl", ServiceName: service, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if st.Backend() != "keyctl" {
			t.Errorf("Backend() = %q", st.Backend())
		}
		if !keyringFirst {
			kr = keyctlKeyring(t, service)
		}
		if err := st.Set("from-us", []byte("our-data")); err != nil {
			t.Fatal(err)
		}
		if it, err := kr.Get("from-us"); err != nil || string(it.Data) != "our-data" {
			t.Errorf("keyring Get of our item: %q, %v", it.Data, err)
		}
		if err := kr.Set(keyring.Item{Key: "from-keyring", Data: []byte("k-data")}); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Get("from-keyring"); err != nil || string(got) != "k-data" {
			t.Errorf("our Get of a keyring item: %q, %v", got, err)
		}
		if ours, theirs := describe(t, unix.KEY_SPEC_USER_KEYRING, "user", "from-us"),
			describe(t, unix.KEY_SPEC_USER_KEYRING, "user", "from-keyring"); ours != theirs {
			t.Errorf("item key: ours %s, keyring's %s", ours, theirs)
		}
		if d := describe(t, unix.KEY_SPEC_USER_KEYRING, "keyring", service); !strings.HasSuffix(d, ";3f3f0000") {
			t.Errorf("named keyring: %s", d)
		}
		// What one removes, the other no longer sees.
		if err := st.Remove("from-keyring"); err != nil {
			t.Fatal(err)
		}
		if _, err := kr.Get("from-keyring"); !errors.Is(err, keyring.ErrKeyNotFound) {
			t.Errorf("keyring Get after our Remove: %v", err)
		}
		if err := kr.Remove("from-us"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Get("from-us"); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("our Get after keyring's Remove: %v", err)
		}
	}
}
