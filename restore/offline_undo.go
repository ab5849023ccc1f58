package restore

import (
	"fmt"
	"strings"

	"github.com/flowg-backup/flowg/kv"
)

// How an offline restore is undone: the safety snapshot of a merge
// restored with one `flowg admin restore --wipe` command, and the previous
// directories of a wipe put back with one shell command.

// Undo is the command that undoes u, "" when nothing was kept.
func (o *Offline) Undo(u Undo) string {
	var ways []string
	if len(u.Snapshots) > 0 {
		cmds := make([]string, len(u.Snapshots))
		for i, sn := range u.Snapshots {
			cmds[i] = fmt.Sprintf("flowg admin restore --backup-dir %s --set %s --only %s --wipe --%s %s",
				o.catalogDir, sn.Set, sn.Database, DirFlag(sn.Database), o.Dir(sn.Database))
		}
		ways = append(ways, strings.Join(cmds, " && "))
	}
	if w := undoWipe(u.Asides); w != "" {
		ways = append(ways, w)
	}
	return strings.Join(ways, "; ")
}

// DirFlag is the flag of `flowg admin` naming n's directory.
func DirFlag(n kv.Name) string {
	if n == kv.Logs {
		return "log-dir"
	}
	return string(n) + "-dir"
}

// undoWipe is the one command that puts back every previous database a
// wipe kept aside: a loop over the directories when every one was kept
// under the same suffix (a restore's), else the moves one after the other.
func undoWipe(asides []Aside) string {
	if len(asides) == 0 {
		return ""
	}
	if len(asides) == 1 {
		a := asides[0]
		return fmt.Sprintf("mv %s %s.undone && mv %s %s", shellQuote(a.Dir), shellQuote(a.Dir), shellQuote(a.Previous), shellQuote(a.Dir))
	}
	suffix := strings.TrimPrefix(asides[0].Previous, asides[0].Dir)
	dirs := make([]string, len(asides))
	same := strings.HasPrefix(asides[0].Previous, asides[0].Dir)
	for i, a := range asides {
		dirs[i] = shellQuote(a.Dir)
		same = same && a.Previous == a.Dir+suffix
	}
	if same {
		return fmt.Sprintf("for d in %s; do mv \"$d\" \"$d.undone\" && mv \"$d%s\" \"$d\"; done", strings.Join(dirs, " "), suffix)
	}
	moves := make([]string, len(asides))
	for i, a := range asides {
		moves[i] = fmt.Sprintf("mv %s %s.undone && mv %s %s", shellQuote(a.Dir), shellQuote(a.Dir), shellQuote(a.Previous), shellQuote(a.Dir))
	}
	return strings.Join(moves, " && ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and /._-+:@,=.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
