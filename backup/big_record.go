package backup

import "runtime"

// collectBeforeBigRecord collects garbage before a big record (bigRecord
// bytes or more) is written through Badger's StreamWriter, which copies its
// value three times (its decoding, its own copy, the value log's encoding
// buffer); the caller then releases the value log's pages that hold it a
// fourth time. Left to the collector's pace (a heap twice the live one),
// the copies of the previous record, or the frames a check of the file
// decoded just before, were still there when a record came, and a
// verification of 20 values of 60 MiB peaked 544 MiB above the idle
// server. Collecting first keeps one record's copies at a time; it costs a
// collection of a small heap per big record, nothing for ordinary ones.
func collectBeforeBigRecord() { runtime.GC() }
