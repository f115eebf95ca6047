//go:build !linux

package cache

import "errors"

func keyctlUsable() error { return errors.New("keyctl is Linux only") }

func openKeyctl(Config) (Store, error) {
	return nil, unavailable(nil, "cache backend keyctl is only available on Linux")
}
