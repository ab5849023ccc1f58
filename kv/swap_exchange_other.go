//go:build !linux

package kv

// exchangeDirs always returns errNoExchange: only Linux has an atomic
// exchange of two directories, and SwapDir falls back to renameSwap.
func exchangeDirs(a, b string) error { return errNoExchange }
