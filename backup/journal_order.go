package backup

import (
	"bytes"
	"cmp"
	"slices"
)

// sortOps puts a segment's changes in the order of its records: by
// version, then key, keeping the order of equal ones (the same key twice
// in one commit: the later one holds). Badger delivers commits in commit
// order, so the versions are already in order and only the keys within
// each commit (a transaction's writes come in map order) need sorting:
// that is cheap, where one stable sort of every change of an interval cost
// a quarter of the shipper's CPU under ingest. Out-of-order versions
// (never seen) fall back to the one stable sort.
func sortOps(ops []op) {
	if !slices.IsSortedFunc(ops, func(a, b op) int { return cmp.Compare(a.version, b.version) }) {
		slices.SortStableFunc(ops, compareOps)
		return
	}
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && ops[j].version == ops[i].version {
			j++
		}
		if j-i > 1 {
			slices.SortStableFunc(ops[i:j], compareOps)
		}
		i = j
	}
}

func compareOps(a, b op) int {
	if c := cmp.Compare(a.version, b.version); c != 0 {
		return c
	}
	return bytes.Compare(a.key, b.key)
}
