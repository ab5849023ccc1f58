package backup

// StreamingMemoryLimit is the soft Go memory limit recommended for flowg's
// streaming jobs (a backup, a wipe restore, a verification). They hold
// little live data; without a limit the collector lets garbage grow to
// twice the live heap, which a peak RSS then shows. Measured on 1M and 3M
// log records, with the table pages those jobs touch released as they go:
// 160 MiB kept a wipe restore at 160 MiB of RSS but made it 20% slower, 224
// MiB keeps it near 205 MiB at either size; with the collector then left to
// the limit alone (GOGC off) a backup of 1M records takes 5% less time
// (1.21 to 1.15 s), at 235 MiB of peak RSS instead of 170. The library
// never sets it: a program decides (internal/memlimit).
const StreamingMemoryLimit = 224 << 20

// MergeMemoryLimit is the soft Go memory limit of an offline merge restore
// (flowg admin restore without --wipe). A merge's live heap is mostly
// Badger's memtables, so unlike a streaming job it keeps the collector on,
// and the limit only makes it collect sooner once the heap nears it. Measured
// on a backup of 20 values of 60 MiB of zeros each (1.2 GiB, written by
// flowg): without a limit the merge peaked at 650 to 850 MiB of RSS, and
// garbage decoded frames are what grew it; at 256 MiB, 313 MiB; at 320 MiB,
// 397 MiB; at 384 MiB, 446 MiB. A merge of 1M log records (214 MiB) peaked at
// 770 to 1000 MiB without it, 515 MiB with it, taking 20% longer.
const MergeMemoryLimit = 320 << 20
