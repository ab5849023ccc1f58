package restore

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowg-backup/flowg/auth"
)

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
