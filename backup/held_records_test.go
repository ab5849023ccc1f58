package backup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/internal/dbtest"
)

// heldFixture is a database of n records of about 1 KiB (a few MiB: many
// batches), user meta and TTLs on some.
func heldFixture(t *testing.T, n int) (string, dbContent) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	db := openDiskDB(t, dir)
	c := dbContent{}
	for i := range n {
		r := storedRecord{Value: strings.Repeat(string(rune('a'+i%26)), 1000+i%50)}
		if i%7 == 0 {
			r.UserMeta, r.ExpiresAt = byte(i%200+1), uint64(4_000_000_000+i)
		}
		c[fmt.Sprintf("key-%06d", i)] = r
	}
	put(t, db, c)
	closeDB(t, db)
	return dir, contentOfDir(t, dir)
}

// TestHeldRecords_ReadsEveryRecordInOrder: every live record, in key
// order, with its value, user meta, expiry and version, across batches.
func TestHeldRecords_ReadsEveryRecordInOrder(t *testing.T) {
	dir, want := heldFixture(t, 6000)
	db := openDiskDB(t, dir)
	defer closeDB(t, db)
	h := readHeld(t.Context(), db, dir)
	defer h.stop()
	got := dbContent{}
	var last string
	for ; h.valid(); h.next() {
		k, v, r := h.record()
		if string(k) <= last {
			t.Fatalf("key %q after %q", k, last)
		}
		last = string(k)
		got[string(k)] = dbtest.Record{Value: string(v), UserMeta: r.userMeta, ExpiresAt: r.expiresAt, Version: r.version}
	}
	if err := h.failed(); err != nil {
		t.Fatal(err)
	}
	requireContent(t, "the records read", want, got)
}

// TestHeldRecords_ACancelledReadingFails: cancelled halfway, the reading
// ends with an error, never as if the database had no more records (a
// merge would then drop them); stopped halfway, it does not hang.
func TestHeldRecords_ACancelledReadingFails(t *testing.T) {
	// About 24 MiB of records: more than is ever read ahead (heldAheadBytes),
	// so the reading cannot have ended before the cancellation.
	const records = 24000
	dir, _ := heldFixture(t, records)
	db := openDiskDB(t, dir)
	defer closeDB(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := readHeld(ctx, db, dir)
	n := 0
	for ; h.valid(); h.next() {
		if n++; n == 10 {
			cancel()
		}
	}
	h.stop()
	if err := h.failed(); !errors.Is(err, context.Canceled) && !errors.Is(err, errHeldStopped) {
		t.Fatalf("after %d records: failed() = %v, want the cancellation", n, err)
	}
	if n >= records {
		t.Fatalf("read all %d records despite the cancellation", n)
	}

	h = readHeld(t.Context(), db, dir)
	h.next()
	h.stop() // must return with batches still unread
}

// TestHeldRecords_LargeValuesAreNotReadFarAhead: batches of large values
// are read ahead one at a time, not four (each holds a copy of its
// value), and every record still comes through.
func TestHeldRecords_LargeValuesAreNotReadFarAhead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db := openDiskDB(t, dir)
	want := dbContent{}
	for i := range 6 {
		want[fmt.Sprintf("big-%d", i)] = storedRecord{Value: strings.Repeat(string(rune('a'+i)), 5<<20)}
	}
	put(t, db, want)
	closeDB(t, db)
	db = openDiskDB(t, dir)
	defer closeDB(t, db)
	h := readHeld(t.Context(), db, dir)
	defer h.stop()
	time.Sleep(300 * time.Millisecond) // time enough to read every value ahead
	if n := len(h.batches); n > 0 {
		t.Errorf("%d batches of %d MiB read ahead of the one at hand, want none past the %d MiB bound", n, 5, heldAheadBytes>>20)
	}
	got := dbContent{}
	for ; h.valid(); h.next() {
		k, v, _ := h.record()
		got[string(k)] = storedRecord{Value: string(v)}
	}
	if err := h.failed(); err != nil {
		t.Fatal(err)
	}
	requireContent(t, "the records read", want.withoutVersions(), got)
}
