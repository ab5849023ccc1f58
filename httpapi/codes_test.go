package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
)

// TestDescribe_EveryErrorHasItsCode: each kind of error, however wrapped,
// is answered with its own code, classified with errors.Is/As only; an
// error made where it happened without a code gets the code of its status.
func TestDescribe_EveryErrorHasItsCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want Code
	}{
		{fmt.Errorf("authenticate: %w", auth.ErrUnauthenticated), CodeUnauthenticated},
		{auth.ErrTokenGone, CodeTokenGone},
		{auth.ErrBadCredentials, CodeBadCredentials},
		{&auth.MissingScopeError{Missing: []auth.Scope{"read_streams"}}, CodeMissingScope},
		{auth.ErrScopeNotHeld, CodeScopeNotHeld},
		{fmt.Errorf("x: %w", kv.ErrUnavailable), CodeDatabaseUnavailable},
		{kv.ErrBusy, CodeRestoreBusy},
		{fmt.Errorf("read: %w", backup.ErrWrongDatabase), CodeBackupWrongDatabase},
		{backup.ErrCompressed, CodeBackupCompressed},
		{backup.ErrVersion, CodeBackupVersion},
		{backup.ErrEmpty, CodeBackupNotABackup},
		{backup.ErrNotBackup, CodeBackupNotABackup},
		{backup.ErrEncrypted, CodeBackupEncrypted},
		{backup.ErrWrongKey, CodeBackupWrongKey},
		{backup.ErrIncremental, CodeBackupIncremental},
		{backup.ErrMissingFile, CodeBackupMissingFile},
		{fmt.Errorf("%w: set x is verify-failed", backup.ErrSetUnusable), CodeBackupSetUnusable},
		{backup.ErrNoCompleteSet, CodeBackupNoCompleteSet},
		{backup.ErrTruncated, CodeBackupDamaged},
		{backup.ErrChecksum, CodeBackupDamaged},
		{auth.ErrNotFound, CodeNotFound},
		{docs.ErrNotFound, CodeNotFound},
		{auth.ErrExists, CodeConflict},
		{auth.ErrInvalidName, CodeInvalidRequest},
		{docs.ErrTooLarge, CodeTooLarge},
		{context.Canceled, CodeCancelled},
		{errors.New("disk on fire"), CodeInternal},
		{unavailable(kv.Logs, kv.ErrUnavailable), CodeDatabaseUnavailable},
		{busy(kv.Logs, kv.ErrBusy), CodeRestoreBusy},
		{restoreDisabled(kv.Logs), CodeRestoreDisabled},
		{badRequest("no", "fix it"), CodeBadRequest},
		{&apiError{status: http.StatusInsufficientStorage, msg: "full"}, CodeInsufficientStorage},
		{&apiError{status: http.StatusConflict, code: CodeNoVerifiedSet, msg: "no set"}, CodeNoVerifiedSet},
	} {
		status, body := describe(tt.err, "req-1")
		if body.Code != tt.want {
			t.Errorf("describe(%v) = %d with code %q, want %q", tt.err, status, body.Code, tt.want)
		}
	}
}
