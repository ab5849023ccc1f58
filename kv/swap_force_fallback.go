//go:build flowg_swapfallback

package kv

import "time"

// A binary built with -tags flowg_swapfallback swaps directories as systems
// without RENAME_EXCHANGE do, and lingers 200 ms between the two renames,
// where no database is at the target, so that the crash test can kill it
// there (integration/crash_test.go). Never ship such a binary.
func init() {
	forceRenameSwap = true
	afterSetAside = func(string) { time.Sleep(200 * time.Millisecond) }
}
