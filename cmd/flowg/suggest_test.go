package main

import (
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

// TestUsage_FlagsAfterAnArgumentAreRefusedWithTheCorrectedLine:
// urfave/cli stops reading flags at the first argument, so a flag after one
// would be taken for an argument; every command refuses it and prints the
// command line with the flags first, quoted for the shell. After the user's
// own "--" anything is an argument.
func TestUsage_FlagsAfterAnArgumentAreRefusedWithTheCorrectedLine(t *testing.T) {
	const id = "20261122T020000Z-3fa2c1"
	for _, tt := range []struct {
		name string
		args []string
		late string
		line string
	}{
		{"flag with a value", []string{"backups", "verify", id, "--server", "http://127.0.0.1:1", "--json"},
			"--server comes after the argument \"" + id + "\"", "flowg backups verify --server http://127.0.0.1:1 --json " + id},
		{"flags before and after", []string{"backups", "restore", "--only", "logs", id, "--wipe"},
			"--wipe comes after the argument \"" + id + "\"", "flowg backups restore --only logs --wipe " + id},
		{"a value that needs quotes", []string{"admin", "verify", "auth.db", "--backup-dir", "my backups"},
			"--backup-dir comes after the argument \"auth.db\"", "flowg admin verify --backup-dir 'my backups' auth.db"},
		{"flag=value", []string{"admin", "verify", "auth.db", "--backup-dir=./bk"},
			"--backup-dir=./bk comes after the argument \"auth.db\"", "flowg admin verify --backup-dir=./bk auth.db"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlowg(t, "", tt.args...)
			stderr := "flowg: " + tt.late + ", where it would be read as an argument; put flags first:\n       " + tt.line + "\n" + seeHelp
			if r.code != exitUsage || r.stdout != "" || r.stderr != stderr {
				t.Errorf("flowg %s: want exit 2, no stdout and stderr\n%s\ngot\n%s", strings.Join(tt.args, " "), stderr, r)
			}
		})
	}
	// After "--" a name that starts with "-" is a file, not a late flag.
	r := runFlowg(t, "", "admin", "verify", "--", "-auth.db")
	if r.code != exitFailed || strings.Contains(r.stderr, "put flags first") || !strings.Contains(r.stderr, "-auth.db") {
		t.Errorf("flowg admin verify -- -auth.db: want exit 1 about the missing file, got\n%s", r)
	}
}
