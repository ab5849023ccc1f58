//go:build !linux

package kv

// ReleaseTablePages does nothing where /proc/self/maps does not exist.
func ReleaseTablePages(dir string) error { return nil }

// ReleaseValueLogPages does nothing where /proc/self/maps does not exist.
func ReleaseValueLogPages(dir string) error { return nil }
