package main

import (
	"path/filepath"
	"strings"
	"testing"
)

const seeHelp = "see:   flowg --help, or the command's --help\n"

// TestUsage_DidYouMeanOnlyForCloseMatches: a typo of a command or flag
// gets the name it is close to; a word that is no typo of any gets no
// suggestion (urfave/cli named the nearest however far: "delete" got
// "restore", "--dry-run" got "--server").
func TestUsage_DidYouMeanOnlyForCloseMatches(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"command typo", []string{"versio"}, `flowg: unknown command "versio"; did you mean "version"?` + "\n"},
		{"swapped letters", []string{"admin", "retsore"}, `flowg: unknown command "retsore"; did you mean "restore"?` + "\n"},
		{"subcommand typo", []string{"admin", "backups", "lst"}, `flowg: unknown command "lst"; did you mean "list"?` + "\n"},
		{"no command near", []string{"delete"}, `flowg: unknown command "delete"` + "\n"},
		{"no subcommand near", []string{"admin", "backups", "ls"}, `flowg: unknown command "ls"` + "\n"},
		{"flag typo", []string{"admin", "restore", "--wpe"}, "flowg: flag provided but not defined: -wpe; did you mean --wipe?\n"},
		{"no flag near", []string{"backup", "--dry-run"}, "flowg: flag provided but not defined: -dry-run\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			if want := tt.stderr + seeHelp; r.code != exitUsage || r.stdout != "" || r.stderr != want {
				t.Errorf("flowg %s: want exit 2, no stdout and stderr\n%s\ngot\n%s", strings.Join(tt.args, " "), want, r)
			}
		})
	}
}

// TestUsage_FlagsAfterAnArgumentWork: urfave/cli stops reading flags at
// the first argument, so a flag after one was taken for an argument (and
// refused, or worse, ignored); every command now reads flags wherever they
// are. A late flag without its value is refused; after the user's own "--"
// anything is an argument.
func TestUsage_FlagsAfterAnArgumentWork(t *testing.T) {
	dbs := dbsWithKeys(t, 2)
	catalog := filepath.Join(t.TempDir(), "catalog")
	created := runFlowg(t, "", append([]string{"admin", "backups", "create", "--backup-dir", catalog}, dbs...)...)
	id, _, _ := strings.Cut(strings.TrimPrefix(created.stdout, "set "), " ")
	bk := backupDirWithKeys(t, 2)
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a prefix
		stderr string // exact
	}{
		{"a bool flag", []string{"admin", "inspect", filepath.Join(bk, "log.db"), "--json"}, exitOK, "[\n  {\n", ""},
		{"a flag with its value", []string{"admin", "backups", "verify", id, "--backup-dir", catalog}, exitOK, id + "  restore-verified\n", ""},
		{"flag=value, flags before and after", []string{"admin", "backups", "verify", "--s3-region", "eu-west-1", id, "--backup-dir=" + catalog}, exitOK, id + "  restore-verified\n", ""},
		{"a flag without its value", []string{"admin", "backups", "verify", id, "--backup-dir"}, exitUsage, "",
			"flowg: --backup-dir needs a value: --backup-dir VALUE\n" + seeHelp},
		{"a name after --", []string{"admin", "verify", "--", "-auth.db"}, exitFailed, "",
			"flowg: verify refused: backup file not found: -auth.db\nnext:  check --backup-dir, or restore only the databases you have with --only\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			if r.code != tt.code || !strings.HasPrefix(r.stdout, tt.stdout) || r.stderr != tt.stderr {
				t.Errorf("flowg %s: want exit %d, stdout starting %q and stderr %q, got\n%s", strings.Join(tt.args, " "), tt.code, tt.stdout, tt.stderr, r)
			}
		})
	}
}
