package backup

import "runtime"

// CollectEvery is how many logical bytes (keys plus values) a Reader hands
// out between two garbage collections it asks for. Decoded frames become
// garbage as soon as the caller has written them, and Go collects only once
// the heap has grown by GOGC percent of the live heap. Inside the server
// the live heap is large and mostly untouched (Badger's memtable arenas,
// about 250 MiB), so without this the garbage of a restore of large records
// reached twice that before a collection: a 250 KB backup of 20 values of
// 60 MiB of zeros took a served merge to 760 MiB above the idle server, a
// wipe or a verification to 960 MiB (326 and 511 to 544 MiB with it; 128
// MiB here gave 566 and 725 to 991 MiB). A process-wide limit (GOMEMLIMIT)
// would bound it too, but makes the collector run constantly once a busy
// server's caches near it. Collecting every CollectEvery bytes costs one
// collection per 32 MiB of records read: a record of tens of MiB gets one
// of its own, an ordinary restore (a 100k-record merge reads 15 MiB) none
// or a few next to the many its own allocations cause.
const CollectEvery = 32 << 20

// collectGarbage runs a collection once CollectEvery bytes of records were
// handed out since the last one. Next calls it before reading on, once the
// frame the caller had is released.
func (r *Reader) collectGarbage() {
	if r.summary.Bytes-r.collectedAt < CollectEvery {
		return
	}
	r.collectedAt = r.summary.Bytes
	runtime.GC()
}
