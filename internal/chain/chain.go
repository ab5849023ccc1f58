// Package chain explains incremental chains to the people who asked for
// them: when a set asked to be incremental (backup.SetOptions.Incremental)
// came out full, WhyFull says why, from the catalog's list alone. The
// choice itself is backup.Catalog.Create's; this package only reads its
// outcome, so the command line (flowg admin backups create) and the HTTP
// API (POST /api/v1/backups?incremental=true) say the same thing.
package chain

import (
	"fmt"
	"strings"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Length returns how many sets the chain ending at id holds in sets (the
// full set at its root included), and false if a link is missing from
// sets or not complete, or the parents loop.
func Length(sets []backup.SetInfo, id string) (int, bool) {
	byID := make(map[string]backup.SetInfo, len(sets))
	for _, s := range sets {
		byID[s.ID] = s
	}
	n := 0
	for next := id; next != ""; n++ {
		s, ok := byID[next]
		if !ok || s.Status != backup.StatusComplete || n > len(sets) {
			return n, false
		}
		next = s.Parent
	}
	return n, true
}

// WhyFull says why set id, asked to be incremental with chains of at most
// maxChain sets (0: no limit), is a full set, from sets as
// backup.Catalog.List gives them (newest first, id among them). It names
// the set it could have built on: its chain was full, it lacked a database
// or held one in Badger's format, or a database was rebuilt since. It
// returns "" when id is incremental or not in sets.
func WhyFull(sets []backup.SetInfo, id string, maxChain int) string {
	var set *backup.SetInfo
	var base *backup.SetInfo
	for i := range sets {
		s := &sets[i]
		switch {
		case s.ID == id:
			set = s
		case set != nil && base == nil && (s.Label == backup.LabelCreated || s.Label == backup.LabelRestoreVerified):
			base = s // the newest complete set older than id
		}
	}
	switch {
	case set == nil || set.Parent != "":
		return ""
	case base == nil:
		return "there is no complete set to build on"
	}
	n, ok := Length(sets, base.ID)
	if !ok {
		return fmt.Sprintf("the chain of set %s is broken: a set it builds on is missing or incomplete", base.ID)
	}
	if maxChain > 0 && n >= maxChain {
		held := fmt.Sprintf("%d sets", n)
		if n == 1 {
			held = "1 set"
		}
		return fmt.Sprintf("the chain of set %s already holds %s, the most a chain may hold (%d): a new chain starts", base.ID, held, maxChain)
	}
	var lacks []string
	for _, name := range kv.Names {
		if _, asked := set.Databases[string(name)]; !asked {
			continue
		}
		if e, ok := base.Databases[string(name)]; !ok || e.Format == backup.FormatBadger {
			lacks = append(lacks, string(name))
		}
	}
	if len(lacks) > 0 {
		return fmt.Sprintf("set %s holds no flowg backup of %s to build on", base.ID, strings.Join(lacks, ", "))
	}
	return fmt.Sprintf("a database was rebuilt since set %s was taken (a wipe restore, or a new directory): its versions start over, so a new chain starts", base.ID)
}
