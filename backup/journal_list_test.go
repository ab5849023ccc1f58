package backup

import (
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/kv"
)

// twoChains leaves f's catalog with two chains of config: the second starts
// from a set taken offline after a write the first never saw.
func twoChains(t *testing.T, f *journalFixture) []chainState {
	t.Helper()
	f.update(t, set("a", "1"))
	f.stop(t)
	db, err := kv.Open(f.dirs.Config, kv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(set("b", "2")); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCatalog(f.catalog).Create(t.Context(), []Source{{Name: string(kv.Config), DB: db}}, SetOptions{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f.start(t)
	f.update(t, set("c", "3"))
	f.stop(t)
	chains, err := readChains(f.catalog, string(kv.Config))
	if err != nil || len(chains) != 2 {
		t.Fatalf("chains: %d, %v", len(chains), err)
	}
	return chains
}

func TestListWithJournal_ShowsEachDatabasesWindowAndItsGaps(t *testing.T) {
	f := newJournalFixture(t)
	chains := twoChains(t, f)
	cat := OpenCatalog(f.catalog)
	sets, spans, err := cat.ListWithJournal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	based := map[string]string{}
	for _, s := range sets {
		for _, w := range s.Journal {
			if w.BaseSet != s.ID {
				t.Fatalf("set %s lists the window of chain %s, based on %s", s.ID, w.Chain, w.BaseSet)
			}
			based[w.Database+"/"+w.Chain] = s.ID
		}
	}
	for _, ch := range chains {
		if based["config/"+ch.ID] != ch.BaseSet {
			t.Fatalf("chain %s is not listed beside its base set %s: %v", ch.ID, ch.BaseSet, based)
		}
	}
	var config *JournalSpan
	for i := range spans {
		if spans[i].Database == string(kv.Config) {
			config = &spans[i]
		}
	}
	if config == nil || len(spans) != len(kv.Names) {
		t.Fatalf("spans %+v: want one per database", spans)
	}
	if !config.From.Equal(chains[0].start()) || !config.To.After(chains[1].start()) {
		t.Fatalf("config span %s–%s, want from %s to past %s", config.From, config.To, chains[0].start(), chains[1].start())
	}
	if len(config.Gaps) != 1 || !strings.Contains(config.Gaps[0], "chain "+chains[1].ID+" started") {
		t.Fatalf("config gaps %q: want the one between the chains", config.Gaps)
	}
	// The first chain's base set gone: the span starts at the second chain.
	if err := cat.Delete(t.Context(), chains[0].BaseSet); err != nil {
		t.Fatal(err)
	}
	_, spans, err = cat.ListWithJournal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range spans {
		if s.Database != string(kv.Config) {
			continue
		}
		if !s.From.Equal(chains[1].start()) || len(s.Gaps) != 1 || !strings.Contains(s.Gaps[0], "restores nothing: its base set "+chains[0].BaseSet+" is gone") {
			t.Fatalf("config span after its first base set went: %+v", s)
		}
	}
}
