package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
)

// TestReportError_EachCaseByItsSentinel: the advice after a failed command
// follows the sentinel the error matches (errors.Is), never its text: a
// missing backup directory, a set that cannot be restored and a catalog
// without a complete set each get their own next step, and are refusals.
func TestReportError_EachCaseByItsSentinel(t *testing.T) {
	_, noDir := backup.FindFile(filepath.Join(t.TempDir(), "absent"), "auth")
	for _, tt := range []struct {
		err      error
		wantNext string
	}{
		{fmt.Errorf("find file: %w", noDir), "give the directory the backup was written to"},
		{fmt.Errorf("%w: set 20260101T000000Z-ab is failed: disk full", backup.ErrSetUnusable), "pick a set that is created or restore-verified"},
		{fmt.Errorf("%w: s3://b/p holds no complete set with logs", backup.ErrNoCompleteSet), "take a set with `flowg admin backups create`"},
		{fmt.Errorf("%w: ./backup has no auth.db", backup.ErrMissingFile), "restore only the databases you have with --only"},
	} {
		var out bytes.Buffer
		if code := reportError(&out, opError{op: "restore", err: tt.err, safe: "nothing was written"}); code != exitFailed {
			t.Errorf("%v: exit %d, want %d", tt.err, code, exitFailed)
		}
		_, next, _ := strings.Cut(out.String(), "\nnext:  ")
		if !strings.Contains(out.String(), "restore refused") || !strings.Contains(next, tt.wantNext) {
			t.Errorf("%v: want a refusal whose next step says %q, got\n%s", tt.err, tt.wantNext, out.String())
		}
	}
}
