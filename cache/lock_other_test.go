//go:build !linux

package cache

import "errors"

func joinAnonymousSessionKeyring() error { return errors.New("keyctl is Linux only") }
