package restore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/kv"
)

// The guard on a restore that gives up a safety copy (NoSafetySnapshot,
// DiscardPrevious), and the users and tokens a merge brought back: one
// rule, one set of cases and one wording for both doors.

// ErrNoVerifiedSet is the class of the guard's refusal (see Unprotected).
var ErrNoVerifiedSet = errors.New("no restore-verified set to fall back on")

// Unprotected is the guard's refusal: the restore gives up GivenUp, and
// the catalog holds no restore-verified set of Database.
type Unprotected struct {
	GivenUp  string
	Database kv.Name
}

func (e *Unprotected) Error() string {
	return fmt.Sprintf("%s, and the backup catalog holds no restore-verified set of the %s database to fall back on", e.GivenUp, e.Database)
}

func (e *Unprotected) Is(target error) bool { return target == ErrNoVerifiedSet }

// Verified answers whether a catalog holds a restore-verified set of a
// database (backup.Catalog does).
type Verified interface {
	HasVerified(ctx context.Context, name string) (bool, error)
}

// GivenUp says which safety copies r turns off compared with a restore
// without options, and whether a copy is still kept; "" when none is
// turned off. wipeSnapshots is as for Keeps.
func (r Request) GivenUp(wipeSnapshots bool) (what string, undoable bool) {
	want, kept := r.defaults(wipeSnapshots), r.Keeps(wipeSnapshots)
	var lost []string
	if want.Snapshot && !kept.Snapshot {
		if r.Wipe {
			lost = append(lost, "no safety snapshot is taken")
		} else {
			lost = append(lost, "no safety snapshot is taken before the merge")
		}
	}
	if want.Previous && !kept.Previous {
		lost = append(lost, "the previous database directory is deleted, not kept aside")
	}
	if len(lost) == 0 {
		return "", true
	}
	what = strings.Join(lost, " and ")
	switch {
	case kept.Snapshot:
		what += " (the safety snapshot still holds the database)"
	case kept.Previous:
		what += " (the previous database directory is still kept aside)"
	}
	return what, kept.Any()
}

// Guard refuses (with *Unprotected) a restore that gives up a safety copy
// unless cat holds a restore-verified set of each database;
// SkipBackupCheck lets it through. Either way it returns the warnings the
// result carries, saying what is given up. A restore giving up nothing
// passes with no warning.
func Guard(ctx context.Context, r Request, wipeSnapshots bool, cat Verified) ([]string, error) {
	what, undoable := r.GivenUp(wipeSnapshots)
	if what == "" {
		return nil, nil
	}
	if r.SkipBackupCheck {
		consequence := "this restore cannot be undone"
		if undoable {
			consequence = "the remaining safety copy is the only way back"
		}
		return []string{fmt.Sprintf("%s, and no restore-verified backup was required (skip backup check): %s", what, consequence)}, nil
	}
	for _, n := range r.Databases {
		ok, err := cat.HasVerified(ctx, string(n))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Unprotected{GivenUp: what, Database: n}
		}
	}
	return []string{fmt.Sprintf("%s; the catalog's newest restore-verified set of %s is the way back to an earlier state", what, JoinNames(r.Databases))}, nil
}

// JoinNames is "auth, config, logs".
func JoinNames(names []kv.Name) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}

// Revived collects the users and tokens a merge of auth brought back: keys
// the database did not hold before the merge, because they were deleted or
// revoked after the backup was taken. Add is a backup.RestoreOptions.Added.
type Revived map[string][]string

// Add records key when it is a user's or a token's.
func (rv Revived) Add(key []byte) {
	if kind, name, ok := auth.DescribeKey(key); ok {
		rv[kind] = append(rv[kind], name)
	}
}

// Warnings says what was brought back, one warning per kind, worded once
// for both doors.
func (rv Revived) Warnings() []string {
	kinds := make([]string, 0, len(rv))
	for kind := range rv {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	out := make([]string, 0, len(kinds))
	for _, kind := range kinds {
		names := rv[kind]
		noun := kind
		if len(names) != 1 {
			noun += "s"
		}
		what := "delete them again if that was intended"
		if kind == "token" {
			what = "tokens revoked since the backup stay revoked; revoke any other you do not want"
		}
		out = append(out, fmt.Sprintf("the restore brought back %d %s the database no longer held (deleted or revoked since the backup): %s; %s",
			len(names), noun, strings.Join(names, ", "), what))
	}
	return out
}
