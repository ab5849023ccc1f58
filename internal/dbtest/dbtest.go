// Package dbtest reads what a Badger database holds, for tests: every live
// key with its value, user meta, expiry and version (Of, OfDir), and a
// readable difference between two such contents (Diff, Require), and a
// damaged table for the tests of damaged databases (DamageTable). Tests of
// backup and httpapi compare databases with it; it is imported only by
// _test.go files.
package dbtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// Record is what a database holds for one key and what a backup and a
// restore must carry over. Version is compared only by tests that require
// nothing to be written at all (see Content.WithoutVersions).
type Record struct {
	Value     string
	UserMeta  byte
	ExpiresAt uint64
	Version   uint64
}

// String shows a record with a long value cut short.
func (r Record) String() string {
	v := r.Value
	if len(v) > 24 {
		v = fmt.Sprintf("%q... (%d bytes)", v[:24], len(v))
	} else {
		v = fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("{value %s, user meta %#x, expires %d, version %d}", v, r.UserMeta, r.ExpiresAt, r.Version)
}

// Brief is the record without its version, as one comparable string:
// `"value" meta=1 expires=0`.
func (r Record) Brief() string {
	return fmt.Sprintf("%q meta=%d expires=%d", r.Value, r.UserMeta, r.ExpiresAt)
}

// Content maps each live key of a database to what it holds.
type Content map[string]Record

// Of reads the newest live version of every key of db.
func Of(t testing.TB, db *badger.DB) Content {
	t.Helper()
	c := Content{}
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			c[string(item.KeyCopy(nil))] = Record{Value: string(v), UserMeta: item.UserMeta(), ExpiresAt: item.ExpiresAt(), Version: item.Version()}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read database: %v", err)
	}
	return c
}

// OfDir opens the closed database in dir (kv.Open), reads it and closes
// it again.
func OfDir(t testing.TB, dir string) Content {
	t.Helper()
	db, err := kv.Open(dir, kv.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	c := Of(t, db)
	if err := db.Close(); err != nil {
		t.Fatalf("close %s: %v", dir, err)
	}
	return c
}

// WithoutVersions returns c with every Version zeroed, for comparisons of
// content only (a merge writes at fresh versions, a wipe keeps the file's).
func (c Content) WithoutVersions() Content {
	out := make(Content, len(c))
	for k, r := range c {
		r.Version = 0
		out[k] = r
	}
	return out
}

// Values maps each key of c to its value alone.
func (c Content) Values() map[string]string {
	out := make(map[string]string, len(c))
	for k, r := range c {
		out[k] = r.Value
	}
	return out
}

// Briefs maps each key of c to its record's Brief.
func (c Content) Briefs() map[string]string {
	out := make(map[string]string, len(c))
	for k, r := range c {
		out[k] = r.Brief()
	}
	return out
}

// maxDiffLines bounds the lines Diff lists.
const maxDiffLines = 20

// Diff describes how got differs from want, key by key in order (missing,
// extra, changed), or returns "" when they are equal.
func Diff[V comparable](want, got map[string]V) string {
	keys := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			lines = append(lines, fmt.Sprintf("  missing %q: want %v", k, w))
		case !inWant:
			lines = append(lines, fmt.Sprintf("  extra   %q: got %v", k, g))
		case w != g:
			lines = append(lines, fmt.Sprintf("  changed %q:\n    want %v\n    got  %v", k, w, g))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > maxDiffLines {
		lines = append(lines[:maxDiffLines], fmt.Sprintf("  ... and %d more differences", len(lines)-maxDiffLines))
	}
	return fmt.Sprintf("%d keys wanted, %d found:\n%s", len(want), len(got), strings.Join(lines, "\n"))
}

// Require fails t now unless got equals want, saying how they differ.
func Require[V comparable](t testing.TB, what string, want, got map[string]V) {
	t.Helper()
	if d := Diff(want, got); d != "" {
		t.Fatalf("%s differs: %s", what, d)
	}
}
