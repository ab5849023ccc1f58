package logstore

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Key prefixes in the logs database.
const (
	logPrefix    = "log/"
	streamPrefix = "stream/"
)

// suffixLen is the length of what follows "log/<stream>/" in a record key:
// the timestamp and the sequence number.
const suffixLen = 16

// seq numbers the records written by this process. It starts at the wall
// clock in nanoseconds, so a restarted process continues above the numbers of
// the previous one unless the clock went back, and it only ever grows, so two
// records never share a key even when they share a timestamp.
var seq atomic.Uint64

func init() {
	seq.Store(uint64(time.Now().UnixNano()))
}

// Range of times a record key can hold.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, math.MaxInt64)
)

// streamLogPrefix returns the prefix of every record key of stream.
func streamLogPrefix(stream string) []byte {
	return []byte(logPrefix + stream + "/")
}

// configKey returns the key of stream's configuration.
func configKey(stream string) []byte {
	return []byte(streamPrefix + stream)
}

// recordKey returns the key of a record of stream at ts (unix nanoseconds)
// with sequence number n.
func recordKey(stream string, ts, n uint64) []byte {
	k := streamLogPrefix(stream)
	k = binary.BigEndian.AppendUint64(k, ts)
	return binary.BigEndian.AppendUint64(k, n)
}

// timeKey returns the smallest key of stream at or after ts.
func timeKey(stream string, ts uint64) []byte {
	return binary.BigEndian.AppendUint64(streamLogPrefix(stream), ts)
}

// splitRecordKey returns the timestamp held by a record key under prefix p.
func splitRecordKey(k, p []byte) (time.Time, error) {
	if len(k) != len(p)+suffixLen {
		return time.Time{}, fmt.Errorf("record key %q: %d bytes after the stream prefix, want %d", k, len(k)-len(p), suffixLen)
	}
	ts := binary.BigEndian.Uint64(k[len(p):])
	return time.Unix(0, int64(ts)).UTC(), nil
}

// unixNanos returns t in unix nanoseconds, and false when t lies outside what
// a key can hold.
func unixNanos(t time.Time) (uint64, bool) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, false
	}
	return uint64(t.UnixNano()), true
}
