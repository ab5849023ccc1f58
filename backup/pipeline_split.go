package backup

import (
	"bytes"

	"github.com/dgraph-io/badger/v4"
)

// numericTail is how many bytes at the end of a key interpolate can read as
// a number: a log record's key ends in its timestamp and sequence number
// (8 bytes each), after "log/<stream>/".
const numericTail = 16

// maxSplitDepth bounds how many times tableSplits cuts one table's key span
// at the first byte where its ends differ (up to 2^maxSplitDepth parts).
const maxSplitDepth = 8

// splitter finds real keys on both sides of a cut through a table's span.
type splitter struct {
	fwd, rev *badger.Iterator
}

func newSplitter(txn *badger.Txn) *splitter {
	return &splitter{
		fwd: txn.NewIterator(badger.IteratorOptions{}),
		rev: txn.NewIterator(badger.IteratorOptions{Reverse: true}),
	}
}

func (s *splitter) close() {
	s.fwd.Close()
	s.rev.Close()
}

// tableSplits returns keys that cut the span [left, right] of a table of
// about pieces × keysPerRange keys into pieces of about keysPerRange keys.
//
// Interpolating the two ends is exact for keys that differ only in their
// numeric tail (the records of one log stream), but meaningless for a span
// over several streams: between "log/auth/…" and "log/billing/…" it cuts at
// keys such as "log/b\\x89…" that no record is near, and what lies between
// two cuts can be the whole tail of a stream. Measured on 3M log records,
// where the newest records of every stream sit in level-0 tables spanning
// all streams, 15 of 824 ranges held a quarter of the keys, one up to 95,000
// (a thirtieth of the database), and the worker holding one worked alone at
// the end of the dump. Such a span is first cut, recursively, at the first
// byte where its ends differ — between the last key before hi[:c+1] and the
// first key from it, both found by a seek — until each part lies within one
// stream; each part then gets all the table's pieces, since how the table's
// keys spread over the parts is unknown (more, smaller ranges cost a seek
// each).
func (s *splitter) tableSplits(left, right []byte, pieces int) [][]byte {
	if pieces < 2 {
		return nil
	}
	return s.split(left, right, pieces, maxSplitDepth)
}

func (s *splitter) split(lo, hi []byte, pieces, depth int) [][]byte {
	if bytes.Compare(lo, hi) >= 0 {
		return nil
	}
	c := commonPrefix(lo, hi)
	if depth == 0 || (len(lo) == len(hi) && c >= len(lo)-numericTail) {
		return interpolate(lo, hi, pieces)
	}
	cut := hi[:c+1] // the first key of hi's branch is at or after it
	before := s.lastBelow(cut)
	after := s.firstFrom(cut)
	if after == nil || bytes.Compare(after, hi) > 0 {
		after = hi
	}
	var out [][]byte
	if before != nil && bytes.Compare(before, lo) > 0 {
		out = append(out, s.split(lo, before, pieces, depth-1)...)
	}
	out = append(out, after)
	return append(out, s.split(after, hi, pieces, depth-1)...)
}

// lastBelow returns the last key before key (nil if none).
func (s *splitter) lastBelow(key []byte) []byte {
	s.rev.Seek(key)
	for ; s.rev.Valid(); s.rev.Next() {
		if k := s.rev.Item().Key(); bytes.Compare(k, key) < 0 {
			return append([]byte(nil), k...)
		}
	}
	return nil
}

// firstFrom returns the first key at or after key (nil if none).
func (s *splitter) firstFrom(key []byte) []byte {
	s.fwd.Seek(key)
	if !s.fwd.Valid() {
		return nil
	}
	return s.fwd.Item().KeyCopy(nil)
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
