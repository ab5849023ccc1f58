package backup

import (
	"fmt"
	"time"
)

// Retention says which backup sets a catalog keeps.
type Retention struct {
	// Keep is how many of the newest manual and scheduled sets are kept
	// (0: no limit by count).
	Keep int
	// MaxAge drops sets older than this (0: no limit by age). Pre-restore
	// sets are kept at least this long and are never counted against Keep.
	MaxAge time.Duration
}

// IsZero reports whether the policy keeps everything.
func (p Retention) IsZero() bool { return p.Keep <= 0 && p.MaxAge <= 0 }

// Select returns the ids of the sets that p drops at now, from sets listed
// newest first (as Catalog.List gives them). It never selects a running set,
// nor the newest restore-verified set holding each database, so pruning can
// never leave a database without its last proven backup. A failed run is
// dropped once a newer run succeeded.
func (p Retention) Select(sets []SetInfo, now time.Time) []string {
	protected := newestVerified(sets)
	var drop []string
	counted := 0
	sawComplete := false
	for _, s := range sets {
		if s.Label == LabelRunning || s.Status == "" {
			continue
		}
		tooOld := p.MaxAge > 0 && now.Sub(s.Created) > p.MaxAge
		if s.Trigger == TriggerPreRestore {
			if tooOld && !protected[s.ID] {
				drop = append(drop, s.ID)
			}
			continue
		}
		if s.Status == StatusFailed {
			// A failed run is worth keeping only until a newer run succeeded.
			if !protected[s.ID] && (tooOld || sawComplete) {
				drop = append(drop, s.ID)
			}
			continue
		}
		sawComplete = true
		counted++
		if !protected[s.ID] && (tooOld || (p.Keep > 0 && counted > p.Keep)) {
			drop = append(drop, s.ID)
		}
	}
	return keepChains(sets, drop)
}

// keepChains removes from drop every set a kept set builds on, so pruning
// never breaks an incremental chain.
func keepChains(sets []SetInfo, drop []string) []string {
	dropped := map[string]bool{}
	for _, id := range drop {
		dropped[id] = true
	}
	parent := map[string]string{}
	for _, s := range sets {
		parent[s.ID] = s.Parent
	}
	for _, s := range sets {
		if dropped[s.ID] {
			continue
		}
		for p := parent[s.ID]; p != ""; p = parent[p] {
			dropped[p] = false
		}
	}
	var out []string
	for _, id := range drop {
		if dropped[id] {
			out = append(out, id)
		}
	}
	return out
}

// newestVerified returns the ids of the newest restore-verified set of each
// database.
func newestVerified(sets []SetInfo) map[string]bool {
	seen := map[string]bool{}
	keep := map[string]bool{}
	for _, s := range sets {
		if s.Label != LabelRestoreVerified {
			continue
		}
		for db := range s.Databases {
			if !seen[db] {
				seen[db] = true
				keep[s.ID] = true
			}
		}
	}
	return keep
}

// Prune deletes the sets p drops at now and returns their ids.
func (c *Catalog) Prune(p Retention, now time.Time) ([]string, error) {
	if p.IsZero() {
		return nil, nil
	}
	sets, err := c.List()
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, id := range p.Select(sets, now) {
		if err := c.Delete(id); err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
		deleted = append(deleted, id)
	}
	return deleted, nil
}

// HasVerified reports whether the catalog holds a restore-verified set with
// database db: the guard destructive restores without a safety copy rely on.
func (c *Catalog) HasVerified(db string) (bool, error) {
	sets, err := c.List()
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
