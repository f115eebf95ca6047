//go:build !unix

package main

// setUmask: no umask outside unix; the permission tests are about unix modes.
func setUmask(m int) int { return m }
