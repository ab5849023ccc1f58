package restore

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Modes of a restore, as Result.Mode names them.
const (
	ModeMerge = "merge"
	ModeWipe  = "wipe"
)

// ErrInvalidRequest is the class of every error Request.Validate returns:
// the request is wrong, nothing was read or written.
var ErrInvalidRequest = errors.New("invalid restore request")

// RequestError is a request Validate refused: Option names what is wrong
// (as the Request's field, e.g. "DiscardPrevious"), Reason says why.
type RequestError struct {
	Option string
	Reason string
}

func (e *RequestError) Error() string        { return e.Reason }
func (e *RequestError) Is(target error) bool { return target == ErrInvalidRequest }

// Request is one restore, whichever door it came through.
type Request struct {
	// Databases are the databases restored, in order; empty means all.
	Databases []kv.Name
	// Wipe: afterwards each database holds exactly the backup's keys
	// (default: merge, keys the backup lacks are kept).
	Wipe bool
	// DryRun: check the files and say what would change; write nothing.
	DryRun bool
	// NoSafetySnapshot: no pre_restore set is written first.
	NoSafetySnapshot bool
	// DiscardPrevious (with Wipe): the previous database directory is
	// deleted, not kept aside.
	DiscardPrevious bool
	// SkipBackupCheck lets a restore that gives up a safety copy through
	// without a restore-verified set in the catalog.
	SkipBackupCheck bool
	// Set is the catalog set restored ("": the backup directory, or the
	// set PickRestoreSet picks).
	Set string
	// At is the instant of the journal restored, RFC 3339 or "latest"
	// ("": none). Validate parses it into AtTime / AtLatest.
	At       string
	AtTime   time.Time `json:"-"`
	AtLatest bool      `json:"-"`
}

// Validate checks the request once, for both doors, and fills Databases
// (all when empty) and the parsed instant.
func (r *Request) Validate() error {
	if r.DiscardPrevious && !r.Wipe {
		return &RequestError{Option: "DiscardPrevious", Reason: "discard previous only applies with wipe: a merge keeps no previous directory"}
	}
	if r.At != "" {
		at, latest, err := backup.ParseAt(r.At)
		if err != nil {
			return &RequestError{Option: "At", Reason: fmt.Sprintf("at: %v", err)}
		}
		if r.Set != "" {
			return &RequestError{Option: "Set", Reason: "a restore to an instant picks the set its journal starts from itself: give no set"}
		}
		r.AtTime, r.AtLatest = at, latest
	}
	if len(r.Databases) == 0 {
		r.Databases = append([]kv.Name(nil), kv.Names...)
	}
	seen := map[kv.Name]bool{}
	for _, n := range r.Databases {
		if _, err := kv.ParseName(string(n)); err != nil {
			return &RequestError{Option: "Databases", Reason: err.Error()}
		}
		if seen[n] {
			return &RequestError{Option: "Databases", Reason: fmt.Sprintf("the %s database is named twice", n)}
		}
		seen[n] = true
	}
	return nil
}

// Mode is ModeWipe or ModeMerge.
func (r Request) Mode() string {
	if r.Wipe {
		return ModeWipe
	}
	return ModeMerge
}

// Copies are the safety copies a restore keeps of what it replaces: the
// pre_restore set of the catalog, and (a wipe) the previous database
// directory, set aside.
type Copies struct {
	Snapshot bool
	Previous bool
}

// Any reports whether any copy is kept.
func (c Copies) Any() bool { return c.Snapshot || c.Previous }

// Keeps returns the copies a restore with r keeps. wipeSnapshots says
// whether the targets take a safety set before a wipe too (the server
// does; an offline wipe keeps the previous directory instead).
func (r Request) Keeps(wipeSnapshots bool) Copies {
	return Copies{
		Snapshot: !r.NoSafetySnapshot && (!r.Wipe || wipeSnapshots),
		Previous: r.Wipe && !r.DiscardPrevious,
	}
}

// defaults are the copies a restore keeps when no option turns one off.
func (r Request) defaults(wipeSnapshots bool) Copies {
	return Copies{Snapshot: !r.Wipe || wipeSnapshots, Previous: r.Wipe}
}
