package backup

import (
	"sync"
	"sync/atomic"
)

// aside runs a database's compaction passes beside its shipper, one at a
// time. A pass merges what CompactAfter/2 of ingest wrote (minutes of
// segments, seconds of work under full ingest), and while it ran in the
// shipper's goroutine nothing was shipped: measured with
// `flowg-bench --only continuous --continuous-compact-after 16s`, a pass
// every 8 s took the p99 lag from 1.3 s to 2.8 s, and at the default 10m
// a pass holds five minutes of segments.
type aside struct {
	busy atomic.Bool
	wg   sync.WaitGroup
}

// start runs pass on its own goroutine, unless the previous pass is still
// running (the pass is then skipped: the next tick tries again).
func (a *aside) start(pass func()) {
	if !a.busy.CompareAndSwap(false, true) {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.busy.Store(false)
		pass()
	}()
}

// wait returns once no pass runs.
func (a *aside) wait() { a.wg.Wait() }
