package main

import (
	"strings"
	"testing"
)

// TestUsage_TyposGetASuggestion: a mistyped command or flag is a usage
// error (exit 2) that names the closest one; a flag that does nothing
// without another says which.
func TestUsage_TyposGetASuggestion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"admin", "restor"}, `unknown command "restor"; did you mean "restore"?`},
		{[]string{"serv"}, `unknown command "serv"; did you mean "serve"?`},
		{[]string{"admin", "backup", "--backup-dri", "x"}, "flag provided but not defined: -backup-dri; did you mean --backup-dir?"},
		{[]string{"admin", "backups", "prune", "--max-ag", "30d"}, "did you mean --max-age?"},
		{[]string{"admin", "backups", "create", "--full-every", "2"}, "--full-every bounds incremental chains: add --incremental"},
	} {
		r := runFlowg(t, "", tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("flowg %s: want exit %d and %q in stderr, got\n%s", strings.Join(tt.args, " "), exitUsage, tt.want, r)
		}
	}
}
