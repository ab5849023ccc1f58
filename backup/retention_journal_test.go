package backup

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

func TestRetention_ContinuousSetsDoNotPushOutScheduledOnesAndKeptChainsKeepTheirBase(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	set := func(hoursAgo int, trigger string) SetInfo {
		created := now.Add(-time.Duration(hoursAgo) * time.Hour)
		return SetInfo{Manifest: Manifest{ID: NewSetID(created), Created: created, Trigger: trigger, Status: StatusComplete,
			Databases: map[string]DBEntry{"config": {}}}, Label: LabelCreated}
	}
	chain := func(base SetInfo, id string, hoursAgo int) JournalWindow {
		return JournalWindow{Database: "config", Chain: id, BaseSet: base.ID, From: base.Created, To: now.Add(-time.Duration(hoursAgo) * time.Hour)}
	}
	// Newest first: a chain base the shipper took, then three scheduled sets.
	sets := []SetInfo{set(1, TriggerContinuous), set(2, TriggerScheduled), set(3, TriggerScheduled), set(9, TriggerContinuous)}
	out, _ := Retention{Keep: 2}.DecideWithJournal(sets, nil, now)
	if out[1].Delete || out[2].Delete {
		t.Fatalf("a continuous set pushed out a scheduled one under --keep 2: %+v", out)
	}
	if !out[3].Delete {
		t.Fatalf("an old continuous set no chain needs is kept: %+v", out[3])
	}

	// The oldest chain reaches past the oldest set kept: its base is kept.
	windows := []JournalWindow{chain(sets[3], "c1", 2), chain(sets[0], "c2", 0)}
	out, chains := Retention{Keep: 2}.DecideWithJournal(sets, windows, now)
	if out[3].Delete || !strings.Contains(out[3].Reason, "the journal chain c1 of config starts from it") {
		t.Fatalf("the base set of a kept chain: %+v", out[3])
	}
	if len(chains) != 2 || chains[0].Delete || chains[1].Delete || chains[1].Journal != "config" {
		t.Fatalf("chains: %+v, want both kept", chains)
	}

	// The oldest chain ends before the oldest set kept: it goes, with its base.
	windows = []JournalWindow{chain(sets[3], "c1", 4), chain(sets[0], "c2", 0)}
	out, chains = Retention{Keep: 2}.DecideWithJournal(sets, windows, now)
	if !out[3].Delete || !chains[0].Delete || !strings.Contains(chains[0].Reason, "before the oldest set of config kept ("+sets[2].ID) {
		t.Fatalf("a chain older than the oldest set kept: sets %+v, chains %+v", out, chains)
	}
	if chains[1].Delete || out[0].Delete {
		t.Fatalf("the newest chain and its base are kept: sets %+v, chains %+v", out, chains)
	}

	// The newest chain's base is never deleted, even past --keep.
	old := []SetInfo{set(1, TriggerScheduled), set(2, TriggerScheduled), set(9, TriggerContinuous)}
	out, _ = Retention{Keep: 1}.DecideWithJournal(old, []JournalWindow{chain(old[2], "c1", 0)}, now)
	if out[1].Delete != true || out[2].Delete {
		t.Fatalf("the newest chain's base set: %+v", out)
	}
}

func TestCatalogPrune_DeletesChainsOlderThanTheOldestSetKept(t *testing.T) {
	f := newJournalFixture(t)
	f.update(t, set("a", "1"))
	f.stop(t)
	// Offline: a write in every database, then a set of all of them, which
	// the next chain of each starts from.
	var sources []Source
	for _, name := range kv.Names {
		db, err := kv.Open(f.dirs.Of(name), kv.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(set("offline", "1")); err != nil {
			t.Fatal(err)
		}
		sources = append(sources, Source{Name: string(name), DB: db})
	}
	cat := OpenCatalog(f.catalog)
	if _, err := cat.Create(t.Context(), sources, SetOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range sources {
		s.DB.Close()
	}
	f.start(t)
	f.update(t, set("b", "2"))
	f.stop(t)
	first, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(first) != 2 {
		t.Fatalf("chains: %d, %v", len(first), err)
	}
	deleted, err := cat.Prune(t.Context(), Retention{Keep: 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var sets, chains int
	for _, d := range deleted {
		if d.Journal == "" {
			sets++
			if d.ID != first[0].BaseSet {
				t.Fatalf("deleted set %s, want only the first chains' base %s", d.ID, first[0].BaseSet)
			}
		} else if strings.Contains(d.Reason, "before the oldest set of "+d.Journal+" kept") {
			chains++
		}
	}
	if sets != 1 || chains != 3 {
		t.Fatalf("prune deleted %+v, want the first set and the first chain of each database", deleted)
	}
	if _, err := os.Stat(first[0].dir); !os.IsNotExist(err) {
		t.Fatalf("the pruned chain is still there (%v)", err)
	}
	got, _, err := restoredAt(t, f.catalog, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	requireState(t, "latest", got, []string{"a=1", "b=2", "offline=1"})
}

func TestCatalog_CompactionSkipsItsPassWhileAPruneHoldsTheSets(t *testing.T) {
	dir := t.TempDir()
	cat := OpenCatalog(dir)
	release, err := cat.lockSets(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.tryHoldSets(); ok {
		t.Fatal("the compaction pass took the set lock a prune holds")
	}
	// Another process's prune: its flock, through another catalog.
	release()
	other, err := OpenCatalog(dir).lockSets(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.tryHoldSets(); ok {
		t.Fatal("the compaction pass took the set lock another process's prune holds")
	}
	other()
	hold, ok := cat.tryHoldSets()
	if !ok {
		t.Fatal("the compaction pass could not take the free set lock")
	}
	hold()
}
