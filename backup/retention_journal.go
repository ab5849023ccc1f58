package backup

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DecideWithJournal is Decide for a catalog with a journal (continuous
// backup): windows are its chains, per database oldest first, as
// JournalWindows lists them. It also says, for each chain, whether
// retention deletes it and why (those decisions name the chain's database
// in Journal). The rules Decide adds to:
//
//   - The journal is kept back to the oldest set kept: a chain is kept when
//     it is its database's newest (the server writes to it) or it reaches
//     the instant that set was created; an older chain is deleted.
//   - A kept chain's base set is never deleted (nor any set it builds on).
//   - Sets the continuous shipper takes as chain bases (trigger
//     "continuous") never count against Keep: they do not push out
//     manual or scheduled sets.
func (p Retention) DecideWithJournal(sets []SetInfo, windows []JournalWindow, now time.Time) (setDecisions, chainDecisions []Decision) {
	out := p.Decide(sets, now)
	if p.IsZero() || len(windows) == 0 {
		return out, nil
	}
	newest := map[string]string{}
	for _, w := range windows {
		newest[w.Database] = w.Chain
	}
	// Keeping a chain's base set moves the oldest set kept back, which may
	// keep an older chain: repeat until nothing changes (chains only ever
	// go from deleted to kept, so this ends).
	for changed := true; changed; {
		changed = false
		oldest := oldestKept(sets, out)
		chainDecisions = chainDecisions[:0]
		for _, w := range windows {
			d := judgeChain(w, newest[w.Database] == w.Chain, oldest)
			chainDecisions = append(chainDecisions, d)
			if !d.Delete && keepBase(sets, out, w, d) {
				changed = true
			}
		}
		keepChains(sets, out)
	}
	return out, chainDecisions
}

// oldestKept returns, per database, the oldest usable set out keeps that
// restores it (pre-restore safety sets aside).
func oldestKept(sets []SetInfo, out []Decision) map[string]SetInfo {
	oldest := map[string]SetInfo{}
	for i, s := range sets {
		if !out[i].Delete && usable(s) && s.Trigger != TriggerPreRestore {
			for db := range s.Databases {
				oldest[db] = s
			}
		}
	}
	return oldest
}

// keepBase keeps the base set of w, a chain d keeps, if out deleted it,
// and reports whether it did.
func keepBase(sets []SetInfo, out []Decision, w JournalWindow, d Decision) bool {
	for j, s := range sets {
		if s.ID == w.BaseSet && out[j].Delete {
			out[j] = Decision{ID: w.BaseSet, Reason: fmt.Sprintf("the journal chain %s of %s starts from it, and is kept: %s", w.Chain, w.Database, d.Reason)}
			return true
		}
	}
	return false
}

// judgeChain decides one chain of the journal of w.Database; oldest holds
// each database's oldest set kept.
func judgeChain(w JournalWindow, isNewest bool, oldest map[string]SetInfo) Decision {
	keep := func(reason string) Decision { return Decision{ID: w.Chain, Journal: w.Database, Reason: reason} }
	o, ok := oldest[w.Database]
	switch {
	case isNewest:
		return keep("the newest journal chain of " + w.Database + ": the server writes to it")
	case !ok:
		return keep("no set of " + w.Database + " is kept, so the journal is kept whole")
	case !w.To.Before(o.Created):
		return keep(fmt.Sprintf("a journal chain of %s reaching %s, not before the oldest set of %s kept (%s, created %s)",
			w.Database, w.To.Format(time.RFC3339Nano), w.Database, o.ID, o.Created.Format(time.RFC3339)))
	}
	return Decision{ID: w.Chain, Journal: w.Database, Delete: true, Reason: fmt.Sprintf(
		"a journal chain of %s that ends at %s, before the oldest set of %s kept (%s, created %s): the journal is kept back to it",
		w.Database, w.To.Format(time.RFC3339Nano), w.Database, o.ID, o.Created.Format(time.RFC3339))}
}

// journalForRetention lists the journal's chains for retention: none in a
// catalog without a journal.
func (c *Catalog) journalForRetention(ctx context.Context) ([]JournalWindow, error) {
	windows, err := c.JournalWindows(ctx, false)
	if errors.Is(err, ErrContinuousTarget) {
		return nil, nil
	}
	return windows, err
}

// removeJournalChain deletes the chain d names (a chain decision of
// DecideWithJournal) from the catalog's journal (see journalStore.removeChain).
func (c *Catalog) removeJournalChain(ctx context.Context, d Decision) error {
	return c.journal().removeChain(ctx, d.Journal, d.ID)
}
