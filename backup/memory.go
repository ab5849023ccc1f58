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
