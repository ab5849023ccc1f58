// Package memlimit is the Go runtime policy of flowg's programs: the
// memory limit and collector setting a streaming job (a backup, a wipe
// restore, a verification) runs under. Only main packages call it (the
// library, backup, only recommends backup.StreamingMemoryLimit), and never
// over a setting the user made with GOMEMLIMIT or GOGC.
package memlimit

import (
	"runtime/debug"

	"github.com/flowg-backup/flowg/backup"
)

// ForStreaming sets backup.StreamingMemoryLimit as the soft memory limit,
// unless getenv("GOMEMLIMIT") is set, and then leaves collection to the
// limit alone (GOGC off, unless getenv("GOGC") is set): the collector runs
// when the heap nears the limit instead of each time it doubles. It reports
// whether it changed anything. A soft limit never fails an allocation.
func ForStreaming(getenv func(string) string) bool {
	if getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetMemoryLimit(backup.StreamingMemoryLimit)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
	return true
}

// ForMerge sets backup.MergeMemoryLimit, unless the user's environment
// (read with getenv) sets GOMEMLIMIT; it leaves the collector on, since a
// merge's heap is mostly Badger's memtables. It reports whether it changed
// anything.
func ForMerge(getenv func(string) string) bool {
	if getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetMemoryLimit(backup.MergeMemoryLimit)
	return true
}
