package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Choosing the set a command reads when none is named: one rule for the
// catalog restore without --set, `--latest` of the client commands and
// the drill. A pre_restore safety set is never chosen unless named: it
// holds what a restore replaced, not a backup anyone asked for.

// SetChoice is the set picked for a restore and why.
type SetChoice struct {
	Set SetInfo
	// Warning is set when the set is not restore-verified: no verified set
	// held every database asked for.
	Warning string
}

// Say is the one line telling which set was picked and why.
func (c SetChoice) Say() string {
	why := "the newest restore-verified set"
	if c.Warning != "" {
		why = "the newest complete set; it is not restore-verified"
	}
	return fmt.Sprintf("set %s (%s, created %s): %s%s", c.Set.ID, orDashTrigger(c.Set.Trigger),
		c.Set.Created.UTC().Format("2006-01-02T15:04:05Z"), why, holdingPhrase(c.Set))
}

// Newest returns the newest set of sets (by creation time, then id) that
// fits and is no pre_restore safety set; ok is false when none is.
func Newest(sets []SetInfo, fits func(SetInfo) bool) (best SetInfo, ok bool) {
	for _, s := range sets {
		if s.Trigger == TriggerPreRestore || !fits(s) {
			continue
		}
		if !ok || s.Created.After(best.Created) || (s.Created.Equal(best.Created) && s.ID > best.ID) {
			best, ok = s, true
		}
	}
	return best, ok
}

// Holds reports whether s holds a backup of every database of names.
func Holds(s SetInfo, names []string) bool {
	for _, n := range names {
		if _, ok := s.Databases[n]; !ok {
			return false
		}
	}
	return true
}

// IsComplete reports whether s finished and can be restored (created or
// restore-verified).
func IsComplete(s SetInfo) bool { return s.Status == StatusComplete && usable(s) }

// PickRestoreSet returns the set a restore of names reads when no set is
// named: the newest restore-verified set holding every one of them, else
// the newest complete one, with a warning. dir names the catalog in the
// error when there is neither.
func PickRestoreSet(sets []SetInfo, names []string, dir string) (SetChoice, error) {
	verified, ok := Newest(sets, func(s SetInfo) bool {
		return IsComplete(s) && s.Label == LabelRestoreVerified && Holds(s, names)
	})
	if ok {
		return SetChoice{Set: verified}, nil
	}
	complete, ok := Newest(sets, func(s SetInfo) bool { return IsComplete(s) && Holds(s, names) })
	if !ok {
		return SetChoice{}, fmt.Errorf("%w: %s holds no complete set with %s (pre_restore safety sets are used only when named with --set)",
			ErrNoCompleteSet, dir, strings.Join(names, ", "))
	}
	return SetChoice{Set: complete, Warning: fmt.Sprintf("no restore-verified set holds %s; restoring set %s, which was never restore-verified (record one as verified with `flowg admin backups verify --backup-dir %s ID`, or name a set with --set)",
		strings.Join(names, ", "), complete.ID, dir)}, nil
}

func orDashTrigger(t string) string {
	if t == "" {
		return "-"
	}
	return t
}

func holdingPhrase(s SetInfo) string {
	if len(s.Databases) == 0 {
		return ""
	}
	return ", holding " + strings.Join(sortedNames(s.Databases), ", ")
}

// IsLocalCatalog reports whether dir is a local catalog rather than a
// backup directory: it has no manifest.json of its own and holds at least
// one set directory.
func IsLocalCatalog(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() && ValidSetID(e.Name()) {
			return true
		}
	}
	return false
}
