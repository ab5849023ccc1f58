package backup

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes the sets p deletes at now (see Retention.Decide), newest
// first, holding the set lock exclusively so no restore is reading them,
// and returns the decisions of the sets it deleted; then, in a catalog
// with a journal, the chains older than the oldest set kept (their
// decisions name the database in Journal; see DecideWithJournal), and the
// oldest segments of kept chains (Segments names them; see
// retention_trim.go), trimmed before any set is deleted. The catalog is listed
// once. The server after each set it writes, its schedule and `flowg admin
// backups prune` all prune through here.
func (c *Catalog) Prune(ctx context.Context, p Retention, now time.Time) ([]Decision, error) {
	if p.IsZero() {
		return nil, nil
	}
	release, err := c.lockSets(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	defer release()
	sets, err := c.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	windows, err := c.journalForRetention(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	trims := p.trims(sets, windows, now)
	setDecisions, chainDecisions := p.DecideWithJournal(sets, windows, now)
	var deleted []Decision
	js := c.journal()
	// Trimmed first: a chain names its new base before its former one
	// may be deleted below.
	for _, t := range trims {
		if chainDeleted(chainDecisions, t.window) {
			continue
		}
		if err := trimChain(ctx, js, t); err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
		if d, ok := t.decision(); ok {
			deleted = append(deleted, d)
		}
	}
	for _, d := range setDecisions {
		if !d.Delete {
			continue
		}
		if err := ctx.Err(); err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
		if err := c.store.remove(ctx, d.ID); err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
		deleted = append(deleted, d)
	}
	for _, d := range chainDecisions {
		if !d.Delete {
			continue
		}
		if err := c.removeJournalChain(ctx, d); err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
		deleted = append(deleted, d)
	}
	return deleted, nil
}

// PrunePlan returns what Prune would decide for every set at now, deleting
// nothing: what `prune --dry-run` shows.
func (c *Catalog) PrunePlan(ctx context.Context, p Retention, now time.Time) ([]Decision, error) {
	if p.IsZero() {
		return nil, nil
	}
	sets, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	windows, err := c.journalForRetention(ctx)
	if err != nil {
		return nil, err
	}
	trims := p.trims(sets, windows, now)
	setDecisions, chainDecisions := p.DecideWithJournal(sets, windows, now)
	for _, t := range trims {
		if d, ok := t.decision(); ok && !chainDeleted(chainDecisions, t.window) {
			chainDecisions = append(chainDecisions, d)
		}
	}
	return append(setDecisions, chainDecisions...), nil
}

// chainDeleted reports whether decisions delete the chain of w.
func chainDeleted(decisions []Decision, w JournalWindow) bool {
	for _, d := range decisions {
		if d.Delete && d.Journal == w.Database && d.ID == w.Chain {
			return true
		}
	}
	return false
}

// HasVerified reports whether the catalog holds a restore-verified set with
// database db: the guard destructive restores without a safety copy rely on.
func (c *Catalog) HasVerified(ctx context.Context, db string) (bool, error) {
	sets, err := c.List(ctx)
	if err != nil {
		return false, err
	}
	for _, s := range sets {
		if _, ok := s.Databases[db]; ok && s.Label == LabelRestoreVerified {
			return true, nil
		}
	}
	return false, nil
}
