package backup

import (
	"context"
	"fmt"
	"time"
)

// Retention keeps the journal back to the oldest set it keeps. A chain that
// reaches it is kept, but a long-lived chain would otherwise keep every
// segment since it started, and its base set with them, however old. So
// the oldest segments of a kept chain are deleted too when a newer set the
// chain can start from is kept: a usable set of the chain's database, in
// its epoch, read at a version the chain covers, no later than the oldest
// set of that database retention keeps (by its own rules, before the
// journal's). Every instant from that set's reading on stays restorable
// (the restore starts from it); the segments wholly at or below its version
// go, the last segment always stays, and the chain's chain.json names the
// set as its base and the first segment kept. Its former base set is then
// no longer held by the chain.
//
// chain.json is rewritten (durably) before the segments are removed: a
// prune cut short leaves segments the chain no longer lists, which readChain
// takes as leftovers.

// chainTrim is the trimming of one kept chain.
type chainTrim struct {
	window JournalWindow
	base   SetInfo
	entry  DBEntry // base's file of the chain's database
	drop   []segmentName
	oldest SetInfo // the oldest set of the database retention keeps
}

// trims decides which chains of windows p trims at now, and makes each
// trimmed window start from its new base set, so DecideWithJournal no
// longer keeps the former one for it.
func (p Retention) trims(sets []SetInfo, windows []JournalWindow, now time.Time) []chainTrim {
	if p.IsZero() || len(windows) == 0 {
		return nil
	}
	plain := p.Decide(sets, now)
	oldest := oldestKept(sets, plain)
	var out []chainTrim
	for i := range windows {
		w := &windows[i]
		o, ok := oldest[w.Database]
		if !ok || w.BaseSetGone || len(w.segs) == 0 {
			continue
		}
		limit := o.Databases[w.Database].Created
		best := -1
		for j, s := range sets {
			e, ok := s.Databases[w.Database]
			if !ok || plain[j].Delete || !usable(s) || s.ID == w.BaseSet || e.Format == FormatBadger || e.Epoch != w.epoch ||
				e.ReadTs < w.baseReadTs || e.ReadTs > w.upTo || e.Created.After(limit) {
				continue
			}
			if best < 0 || e.ReadTs > sets[best].Databases[w.Database].ReadTs {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		t := chainTrim{window: *w, base: sets[best], entry: sets[best].Databases[w.Database], oldest: o}
		for _, seg := range w.segs[:len(w.segs)-1] {
			if seg.upTo > t.entry.ReadTs {
				break
			}
			t.drop = append(t.drop, seg)
		}
		out = append(out, t) // with no segment to drop, the chain still moves to the newer base
		w.BaseSet, w.From = t.base.ID, t.entry.Created
	}
	return out
}

// decision describes t as retention reports what it deletes; ok is false
// when t deletes no segment (the chain only starts from a newer set).
func (t chainTrim) decision() (Decision, bool) {
	if len(t.drop) == 0 {
		return Decision{}, false
	}
	first, last := t.drop[0].seq, t.drop[len(t.drop)-1].last
	return Decision{ID: t.window.Chain, Journal: t.window.Database, Delete: true, Segments: fmt.Sprintf("%d to %d", first, last),
		Reason: fmt.Sprintf("they end before set %s (read %s), from which the chain now starts: the journal of %s is kept back to the oldest set of %s kept (%s, created %s)",
			t.base.ID, t.entry.Created.Format(time.RFC3339Nano), t.window.Database, t.window.Database, t.oldest.ID, t.oldest.Created.Format(time.RFC3339))}, true
}

// trimChain applies t to the chain in the catalog's journal js: its
// chain.json names the new base and first segment, then the segments before
// it are removed. A chain that changed since it was listed is left as is.
func trimChain(ctx context.Context, js journalStore, t chainTrim) error {
	ch, err := readChain(ctx, js, t.window.Database, t.window.Chain)
	if err != nil {
		return err
	}
	// The first segment kept: the one after the last dropped, as listed.
	var next *segmentName
	for i, seg := range ch.segs {
		if len(t.drop) == 0 {
			next = &ch.segs[0]
			break
		}
		last := t.drop[len(t.drop)-1]
		if i > 0 && seg.seq == last.last+1 && ch.segs[i-1].last == last.last && ch.segs[i-1].upTo == last.upTo {
			next = &ch.segs[i]
			break
		}
	}
	if next == nil || ch.BaseSet != t.window.BaseSet {
		return nil // compacted or trimmed meanwhile: the next prune decides again
	}
	info := ch.journalChain
	info.BaseSet, info.BaseReadTs, info.BaseCreated = t.base.ID, t.entry.ReadTs, t.entry.Created.UTC()
	info.FirstSeq, info.FirstSince, info.FirstFrom = next.seq, next.since, next.from.UTC()
	if err := writeChain(ctx, js, info); err != nil {
		return fmt.Errorf("trim journal chain %s of %s: %w", t.window.Chain, t.window.Database, err)
	}
	names := make([]string, len(t.drop))
	for i, seg := range t.drop {
		names[i] = seg.String()
	}
	if err := js.remove(ctx, t.window.Database, t.window.Chain, names...); err != nil {
		return fmt.Errorf("trim journal chain %s of %s: %w", t.window.Chain, t.window.Database, err)
	}
	return nil
}
