package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/flowg-backup/flowg/backup"
)

// Code is the stable, machine-readable "code" of every JSON error answer,
// beside its "error" (for people, may change) and "hint". Clients and
// scripts classify answers by Code only; the table is in the docs
// (docs/api.md).
type Code string

// The codes of error answers. A code, once published, keeps its meaning.
const (
	CodeUnauthenticated     Code = "unauthenticated"        // 401: no, malformed, unknown or badly signed token
	CodeTokenGone           Code = "token_gone"             // 401: the token expired, was revoked, or its user was deleted
	CodeBadCredentials      Code = "bad_credentials"        // 401: login with a wrong username or password
	CodeMissingScope        Code = "missing_scope"          // 403: the token lacks a scope the request needs
	CodeScopeNotHeld        Code = "scope_not_held"         // 403: a token asked for a scope its owner lacks
	CodeWiderToken          Code = "wider_token"            // 403: a token may create or revoke only tokens within its own scopes
	CodeForbidden           Code = "forbidden"              // 403: refused for another reason
	CodeRestoreDisabled     Code = "restore_disabled"       // 403: server started with --no-online-restore
	CodeInvalidRequest      Code = "invalid_request"        // 400: a name, TTL, range, limit or record is malformed
	CodeBadRequest          Code = "bad_request"            // 400: the request is wrong in another way (see hint)
	CodeBackupWrongDatabase Code = "backup_wrong_database"  // 400: the file is another database's backup
	CodeBackupCompressed    Code = "backup_compressed"      // 400: the file is gzip/zstd/... compressed as a whole
	CodeBackupVersion       Code = "backup_version"         // 400: the file's format is newer than this server's
	CodeBackupNotABackup    Code = "backup_not_a_backup"    // 400: empty, or not a flowg or Badger backup
	CodeBackupEncrypted     Code = "backup_encrypted"       // 400: the file is encrypted and no key opens it here
	CodeBackupWrongKey      Code = "backup_wrong_key"       // 400: the key given does not open the file
	CodeBackupIncremental   Code = "backup_incremental"     // 400: an incremental file restored on its own
	CodeBackupMissingFile   Code = "backup_missing_file"    // 400: a set or directory lacks the file
	CodeBackupSetUnusable   Code = "backup_set_unusable"    // 400: the set asked for failed, is running, or failed its verification
	CodeBackupNoCompleteSet Code = "backup_no_complete_set" // 400: no complete set holds every database asked for
	CodeBackupDamaged       Code = "backup_damaged"         // 400: truncated, checksum mismatch, malformed frame
	CodeJournalNotCovered   Code = "journal_not_covered"    // 400: a restore to an instant outside the continuous journal's window, or past a gap
	CodeNotFound            Code = "not_found"              // 404: the named user, role, token, document or set does not exist
	CodeNoRoute             Code = "no_route"               // 404: no such API route
	CodeMethodNotAllowed    Code = "method_not_allowed"     // 405
	CodeConflict            Code = "conflict"               // 409: exists, in use, or the state forbids it (see hint)
	CodeRestoreBusy         Code = "restore_busy"           // 409: a restore of this database is already running
	CodeNoVerifiedSet       Code = "no_verified_set"        // 409: a restore without safety copy, and no restore-verified set to fall back on
	CodeTooLarge            Code = "too_large"              // 413: the body or a part of it is over a limit
	CodeTooManyLogins       Code = "too_many_logins"        // 429: failed logins of this user or address over --login-rate (Retry-After)
	CodeRateLimited         Code = "rate_limited"           // 429: over a per-user rate such as --backup-create-rate (Retry-After)
	CodeTooManyStreams      Code = "too_many_streams"       // 429: the database's --max-backup-streams online backups already run (Retry-After)
	CodeTooManyVerifies     Code = "too_many_verifies"      // 429: the server's --max-concurrent-verifies verifications already run (Retry-After)
	CodeUnavailable         Code = "unavailable"            // 503: retry later (Retry-After)
	CodeLoginsBusy          Code = "logins_busy"            // 503: no password check free within --login-wait (Retry-After)
	CodeCatalogBusy         Code = "catalog_busy"           // 503: another process holds the catalog's set lock (Retry-After)
	CodeDatabaseUnavailable Code = "database_unavailable"   // 503: the database is being wiped and reloaded (Retry-After)
	CodeCancelled           Code = "cancelled"              // 503: the request was cancelled (client gone, server stopping)
	CodeInternal            Code = "internal"               // 500: see the server log for the request id
	CodeInsufficientStorage Code = "insufficient_storage"   // 507: the backup target or the database's disk is full
	CodeTooManySafetyCopies Code = "too_many_safety_copies" // 507: the database already has --max-safety-copies safety copies of earlier restores
)

// CodeForStatus is the code of an answer that carries none: an apiError
// built without one, echo's own errors, or (on the client side) an answer
// from a proxy or an older server.
func CodeForStatus(status int) Code {
	switch status {
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusUnauthorized:
		return CodeUnauthenticated
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusConflict:
		return CodeConflict
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusTooManyRequests:
		return CodeRateLimited
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	case http.StatusInsufficientStorage:
		return CodeInsufficientStorage
	case http.StatusInternalServerError:
		return CodeInternal
	}
	return Code(fmt.Sprintf("http_%d", status))
}

// backupCode is the code of a refused backup file (backup.IsInputError).
func backupCode(err error) Code {
	switch {
	case errors.Is(err, backup.ErrWrongDatabase):
		return CodeBackupWrongDatabase
	case errors.Is(err, backup.ErrCompressed):
		return CodeBackupCompressed
	case errors.Is(err, backup.ErrVersion):
		return CodeBackupVersion
	case errors.Is(err, backup.ErrEmpty), errors.Is(err, backup.ErrNotBackup):
		return CodeBackupNotABackup
	case errors.Is(err, backup.ErrEncrypted):
		return CodeBackupEncrypted
	case errors.Is(err, backup.ErrWrongKey):
		return CodeBackupWrongKey
	case errors.Is(err, backup.ErrIncremental):
		return CodeBackupIncremental
	case errors.Is(err, backup.ErrMissingFile):
		return CodeBackupMissingFile
	case errors.Is(err, backup.ErrSetUnusable):
		return CodeBackupSetUnusable
	case errors.Is(err, backup.ErrNoCompleteSet):
		return CodeBackupNoCompleteSet
	}
	return CodeBackupDamaged
}
