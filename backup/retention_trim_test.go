package backup

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// TestCatalogPrune_TrimsTheSegmentsOfAKeptChainOlderThanTheOldestSetKept
// runs one chain across two manual sets, prunes with --keep 1, and finds
// the chain kept but starting from the set kept: its segments before that
// set are gone, and so are the older sets (its former base among them);
// every instant from the set kept on restores exactly, an earlier one is
// refused, and the journal continues the trimmed chain after a restart.
func TestCatalogPrune_TrimsTheSegmentsOfAKeptChainOlderThanTheOldestSetKept(t *testing.T) {
	f := newIncrFixture(t)
	pause := func() { time.Sleep(120 * time.Millisecond) } // three intervals: a segment each
	f.update(t, set("a", "1"))
	pause()
	f.update(t, set("b", "2"))
	pause()
	older := f.takeSet(t, false)
	f.update(t, set("c", "3"))
	pause()
	f.update(t, delKey("a"))
	pause()
	kept := f.takeSet(t, false)
	f.update(t, set("d", "4"))
	afterKept := between()
	f.update(t, set("e", "5"))
	f.stop(t)

	before, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(before) != 1 {
		t.Fatalf("chains of config: %d, %v", len(before), err)
	}
	base := before[0].BaseSet
	plan, err := f.cat.PrunePlan(t.Context(), Retention{Keep: 1}, time.Now())
	if err != nil || !slices.ContainsFunc(plan, func(d Decision) bool { return d.Delete && d.Journal == string(kv.Config) && d.Segments != "" }) {
		t.Fatalf("prune --dry-run: %+v, %v; want the trim of config's chain", plan, err)
	}
	deleted, err := f.cat.Prune(t.Context(), Retention{Keep: 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var trimmed *Decision
	gone := map[string]bool{}
	for i, d := range deleted {
		switch {
		case d.Journal == string(kv.Config) && d.Segments != "":
			trimmed = &deleted[i]
		case d.Journal == "":
			gone[d.ID] = true
		}
	}
	if trimmed == nil || !strings.HasPrefix(trimmed.Segments, "1 to ") || !strings.Contains(trimmed.Reason, "from which the chain now starts") {
		t.Fatalf("prune deleted %+v, want the oldest segments of config's chain", deleted)
	}
	if !gone[older.ID] || !gone[base] || gone[kept.ID] {
		t.Fatalf("prune deleted sets %v; want %s and the chain's former base %s, not %s", gone, older.ID, base, kept.ID)
	}
	after, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(after) != 1 || after[0].problem != "" || after[0].BaseSet != kept.ID || after[0].segs[0].seq == 1 ||
		len(after[0].leftovers) != 0 || len(after[0].segs) >= len(before[0].segs) {
		t.Fatalf("the trimmed chain: %+v (was %d segments)", after, len(before[0].segs))
	}

	got, _, err := restoredWith(t, f.cat, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest", got, []string{"b=2", "c=3", "d=4", "e=5"})
	got, _, err = restoredWith(t, f.cat, afterKept, false)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "after the set kept", got, []string{"b=2", "c=3", "d=4"})
	if _, _, err := restoredWith(t, f.cat, older.Created, false); !errors.Is(err, ErrNotCovered) {
		t.Fatalf("restore to an instant before the set kept: %v, want refused", err)
	}

	// The server continues the trimmed chain.
	f.journalFixture.start(t)
	f.update(t, set("f", "6"))
	f.stop(t)
	again, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(again) != 1 || again[0].ID != after[0].ID || again[0].problem != "" {
		t.Fatalf("after a restart: %+v, %v; want the trimmed chain continued", again, err)
	}
	got, _, err = restoredWith(t, f.cat, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest after the restart", got, []string{"b=2", "c=3", "d=4", "e=5", "f=6"})
}
