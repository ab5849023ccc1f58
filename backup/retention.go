package backup

import (
	"fmt"
	"strings"
	"time"
)

// DefaultKeep is the retention by count of the server and of `flowg admin
// backups prune` when no --backup-keep (--keep) is given: 30 sets per
// database.
const DefaultKeep = 30

// Retention says which backup sets a catalog keeps. It counts per
// database: a set is deleted only when every database it holds keeps
// enough newer sets, so sets of one database never push out the backups
// of another.
type Retention struct {
	// Keep is how many of the newest manual and scheduled sets of each
	// database are kept (0: no limit by count).
	Keep int
	// MaxAge drops sets older than this (0: no limit by age), but never the
	// newest usable set of a database. Pre-restore sets are kept at least
	// this long and never counted against Keep.
	MaxAge time.Duration
}

// IsZero reports whether the policy keeps everything.
func (p Retention) IsZero() bool { return p.Keep <= 0 && p.MaxAge <= 0 }

// Decision is what retention does with one set, and why.
type Decision struct {
	ID     string `json:"id"`
	Delete bool   `json:"delete"`
	Reason string `json:"reason"`
	// Journal names the database when the decision is about a chain of
	// its journal (ID is then the chain's), not a set.
	Journal string `json:"journal,omitempty"`
	// Segments, for a chain, names the oldest segments deleted ("1 to
	// 40") when the chain is kept but trimmed (see retention_trim.go).
	Segments string `json:"segments,omitempty"`
}

// Select returns the ids of the sets p deletes at now, newest first (see
// Decide).
func (p Retention) Select(sets []SetInfo, now time.Time) []string {
	var ids []string
	for _, d := range p.Decide(sets, now) {
		if d.Delete {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// Decide says, for each of sets (listed newest first, as Catalog.List gives
// them), whether p deletes it at now and why; the decisions come in the
// order of sets, so deleting in that order removes an incremental set
// before the set it builds on. The rule:
//
//   - A manual or scheduled set is kept while, for at least one database
//     it holds, fewer than Keep newer usable (created or restore-verified)
//     manual or scheduled sets hold that database and it is not older than
//     MaxAge.
//   - A pre-restore safety set is kept until it is older than MaxAge
//     (forever without MaxAge); it protects no other set from Keep.
//   - Whatever the policy, it keeps, per database: the newest
//     restore-verified manual or scheduled set, the newest restore-verified
//     set of any kind, the newest usable manual or scheduled set, and the
//     newest usable set of any kind; and every set a kept set builds on
//     (its incremental chain). So a set of one database never removes
//     another database's last real backup, even when only pre-restore
//     safety sets of that database are newer.
//   - A failed run is deleted once a newer manual or scheduled run
//     completed for each database the catalog holds (a failed manifest
//     records none, so it may have been for any), or past MaxAge. A
//     complete set holding no database goes by the same rule.
//   - A running or unfinished set (no complete manifest) is never deleted.
func (p Retention) Decide(sets []SetInfo, now time.Time) []Decision {
	guards := newestPerDatabase(sets)
	newer := map[string]int{} // per database: usable counted sets seen so far
	completed := newerRuns(sets)
	out := make([]Decision, len(sets))
	for i, s := range sets {
		out[i] = p.decide(s, now, guards, newer, completed.coversAll())
		completed.add(s)
		if s.Trigger != TriggerPreRestore && s.Trigger != TriggerContinuous && usable(s) {
			for db := range s.Databases {
				newer[db]++
			}
		}
	}
	keepChains(sets, out)
	return out
}

// decide judges one set; newer counts, per database, the usable manual and
// scheduled sets newer than s; sawComplete says a newer manual or
// scheduled run completed for every database of the catalog.
func (p Retention) decide(s SetInfo, now time.Time, guards map[string]string, newer map[string]int, sawComplete bool) Decision {
	keep := func(reason string) Decision { return Decision{ID: s.ID, Reason: reason} }
	drop := func(reason string) Decision { return Decision{ID: s.ID, Delete: true, Reason: reason} }
	tooOld := p.MaxAge > 0 && now.Sub(s.Created) > p.MaxAge
	switch {
	case p.IsZero():
		return keep("the policy sets no limit by count or age")
	case s.Label == LabelRunning:
		return keep("it is being written")
	case s.Status == "":
		return keep("it has no complete manifest (" + s.Label + "); retention never deletes it: delete it by hand")
	case s.Status == StatusFailed && tooOld:
		return drop(fmt.Sprintf("a failed run older than the maximum age %s", p.MaxAge))
	case s.Status == StatusFailed && sawComplete:
		return drop("a failed run, and a newer run completed for each database")
	case s.Status == StatusFailed:
		return keep("a failed run, and no newer run completed yet for each database")
	}
	if why := guards[s.ID]; why != "" {
		return keep(why)
	}
	if len(s.Databases) == 0 {
		if sawComplete || tooOld {
			return drop("it holds no database")
		}
		return keep("it holds no database, but no newer set completed yet for each database")
	}
	if s.Trigger == TriggerPreRestore {
		switch {
		case p.MaxAge <= 0:
			return keep("a pre-restore safety set: kept until the maximum age, and none is set")
		case !tooOld:
			return keep(fmt.Sprintf("a pre-restore safety set younger than the maximum age %s", p.MaxAge))
		}
		return drop(fmt.Sprintf("a pre-restore safety set older than the maximum age %s", p.MaxAge))
	}
	dbs := sortedNames(s.Databases)
	if tooOld {
		return drop(fmt.Sprintf("older than the maximum age %s, and each of its databases (%s) has a newer usable set",
			p.MaxAge, strings.Join(dbs, ", ")))
	}
	if p.Keep <= 0 {
		return keep(fmt.Sprintf("younger than the maximum age %s", p.MaxAge))
	}
	for _, db := range dbs {
		if newer[db] < p.Keep {
			return keep(fmt.Sprintf("one of the %d newest sets of %s (%s)", p.Keep, db, ordinal(newer[db]+1)))
		}
	}
	counts := make([]string, len(dbs))
	for i, db := range dbs {
		counts[i] = fmt.Sprintf("%s %d", db, newer[db])
	}
	return drop(fmt.Sprintf("each of its databases keeps %d newer sets (%s)", p.Keep, strings.Join(counts, ", ")))
}

// newestPerDatabase returns, for the sets that retention keeps whatever
// the policy, why: per database, the newest restore-verified manual or
// scheduled set, the newest restore-verified set of any kind, the newest
// usable set, and the newest usable manual or scheduled set (a pre-restore
// safety set never stands in for a database's last real backup).
func newestPerDatabase(sets []SetInfo) map[string]string {
	why := map[string]string{}
	seen := map[string]bool{}
	guard := func(key, reason string, s SetInfo) {
		if seen[key] {
			return
		}
		seen[key] = true
		if why[s.ID] == "" {
			why[s.ID] = reason
		}
	}
	for _, s := range sets {
		if !usable(s) {
			continue
		}
		for _, db := range sortedNames(s.Databases) {
			verified := s.Label == LabelRestoreVerified
			if verified && s.Trigger != TriggerPreRestore {
				guard("verified/"+db, "the newest restore-verified set of "+db, s)
			}
			if verified {
				guard("verified-any/"+db, "the newest restore-verified set of "+db+" (counting pre-restore sets)", s)
			}
			guard("usable/"+db, "the newest usable set of "+db, s)
			if s.Trigger != TriggerPreRestore && s.Trigger != TriggerContinuous {
				guard("usable-counted/"+db, "the newest usable manual or scheduled set of "+db, s)
			}
		}
	}
	return why
}

// runsSeen tracks, walking sets newest first, which databases of the
// catalog a manual or scheduled run has completed for so far.
type runsSeen struct {
	all  map[string]bool // every database a complete set of the catalog holds
	done map[string]bool
}

func newerRuns(sets []SetInfo) *runsSeen {
	r := &runsSeen{all: map[string]bool{}, done: map[string]bool{}}
	for _, s := range sets {
		if s.Status == StatusComplete {
			for db := range s.Databases {
				r.all[db] = true
			}
		}
	}
	return r
}

// add records s, a set older than every one added before.
func (r *runsSeen) add(s SetInfo) {
	if s.Status != StatusComplete || s.Trigger == TriggerPreRestore {
		return
	}
	for db := range s.Databases {
		r.done[db] = true
	}
}

// coversAll reports whether the runs added so far completed for every
// database of the catalog (and for at least one).
func (r *runsSeen) coversAll() bool {
	if len(r.done) == 0 {
		return false
	}
	for db := range r.all {
		if !r.done[db] {
			return false
		}
	}
	return true
}

// keepChains keeps every set a kept set builds on, so pruning never breaks
// an incremental chain; running sets count as kept.
func keepChains(sets []SetInfo, out []Decision) {
	index := make(map[string]int, len(sets))
	for i, s := range sets {
		index[s.ID] = i
	}
	for i, s := range sets {
		if out[i].Delete {
			continue
		}
		seen := map[string]bool{s.ID: true}
		for p := s.Parent; p != "" && !seen[p]; {
			seen[p] = true
			j, ok := index[p]
			if !ok {
				break
			}
			if out[j].Delete {
				out[j] = Decision{ID: p, Reason: fmt.Sprintf("set %s, which is kept, builds on it", s.ID)}
			}
			p = sets[j].Parent
		}
	}
}

// ordinal writes n as 1st, 2nd, 3rd, 4th...
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
