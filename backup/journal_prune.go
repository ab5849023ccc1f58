package backup

import (
	"context"
)

// pruneChains deletes the chains of database db that nothing can restore
// any more: every set they could start from is gone (retention deleted
// their base set, and no later set of their epoch lies within their
// versions). The newest chain is never deleted: the server writes to it.
// It returns the ids of the chains deleted.
func pruneChains(ctx context.Context, cat *Catalog, js journalStore, db string) ([]string, error) {
	chains, err := readChainsIn(ctx, js, db)
	if err != nil || len(chains) < 2 {
		return nil, err
	}
	sets, err := cat.List(ctx)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, ch := range chains[:len(chains)-1] {
		if restorableFrom(sets, ch) {
			continue
		}
		if err := js.removeChain(ctx, db, ch.ID); err != nil {
			return deleted, err
		}
		deleted = append(deleted, ch.ID)
	}
	return deleted, nil
}

// restorableFrom reports whether sets hold a usable set chain ch can start
// from: its base set, or a later set of its database in its epoch read
// within the versions the chain covers.
func restorableFrom(sets []SetInfo, ch chainState) bool {
	for _, s := range sets {
		entry, ok := s.Databases[ch.Database]
		if !ok || !usable(s) || entry.Format == FormatBadger {
			continue
		}
		if s.ID == ch.BaseSet || (entry.Epoch == ch.Epoch && entry.ReadTs >= ch.BaseReadTs && entry.ReadTs <= ch.upTo()) {
			return true
		}
	}
	return false
}
