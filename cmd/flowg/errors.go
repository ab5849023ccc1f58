package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// opError is a failed operation, with what is known to be safe and,
// optionally, what to do next (derived from the cause when empty).
type opError struct {
	op   string // "backup", "restore", "verify", ...
	err  error
	safe string
	next string
}

func (e opError) Error() string { return e.op + ": " + e.err.Error() }
func (e opError) Unwrap() error { return e.err }

// openError is a database that could not be opened; next, when set,
// replaces the usual advice.
type openError struct {
	name kv.Name
	dir  string
	err  error
	next string
}

func (e openError) Error() string {
	return fmt.Sprintf("open %s database at %s: %v", e.name, e.dir, e.err)
}
func (e openError) Unwrap() error { return e.err }

// reportError prints err for a person (what happened, what is safe, what to
// do next) and returns the exit code.
func reportError(w io.Writer, err error) int {
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(w, "flowg: %s\nsee:   flowg --help, or the command's --help\n", usage.msg)
		return exitUsage
	}
	if errors.Is(err, errSilent) {
		return exitCodeFor(err)
	}
	var open openError
	if errors.As(err, &open) {
		fmt.Fprintf(w, "flowg: %s\n", describeOpen(open))
		fmt.Fprintf(w, "safe:  nothing was written\n")
		next := open.next
		if next == "" || !errors.Is(open.err, kv.ErrLocked) {
			next = nextForOpen(open)
		}
		fmt.Fprintf(w, "next:  %s\n", next)
		return exitFailed
	}
	var op opError
	if errors.As(err, &op) {
		verb := "failed"
		if errors.Is(op.err, backup.ErrEncrypted) {
			verb = "needs a key"
		} else if backup.IsInputError(op.err) {
			verb = "refused"
		}
		fmt.Fprintf(w, "flowg: %s %s: %v\n", op.op, verb, op.err)
		if op.safe != "" {
			fmt.Fprintf(w, "safe:  %s\n", op.safe)
		}
		if next := op.next; next != "" || nextFor(op.err) != "" {
			if next == "" {
				next = nextFor(op.err)
			}
			fmt.Fprintf(w, "next:  %s\n", next)
		}
		return exitCodeFor(op.err)
	}
	fmt.Fprintf(w, "flowg: %v\n", err)
	return exitCodeFor(err)
}

// exitCodeFor is the exit code of a failed command: exitNeedKey when it
// failed only because a backup file is encrypted and no key was given (a
// script can then ask for one), else exitFailed.
func exitCodeFor(err error) int {
	if errors.Is(err, backup.ErrEncrypted) {
		return exitNeedKey
	}
	return exitFailed
}

func describeOpen(e openError) string {
	switch {
	case errors.Is(e.err, kv.ErrLocked):
		return fmt.Sprintf("the %s database at %s is in use by another process (is the flowg server running?)", e.name, e.dir)
	case errors.Is(e.err, kv.ErrMissing):
		return fmt.Sprintf("there is no %s database at %s", e.name, e.dir)
	}
	return e.Error()
}

func nextForOpen(e openError) string {
	switch {
	case errors.Is(e.err, kv.ErrLocked):
		return fmt.Sprintf("stop the server first, or use the online endpoints while it runs: "+
			"GET /api/v1/backup/%s to back up, POST /api/v1/restore/%s to restore "+
			"(or `flowg backup --server URL` / `flowg restore --server URL`)", e.name, e.name)
	case errors.Is(e.err, kv.ErrMissing):
		return "check --auth-dir, --config-dir and --log-dir, or leave the database out with --only"
	}
	return "check the directory's permissions and free space"
}

// encryptedAdvice is what every command says about an encrypted backup
// file read without a key.
const encryptedAdvice = "encrypted: give --identity FILE (the age identity it was encrypted to, as age-keygen writes it) or --encrypt-passphrase-file FILE"

// nextFor suggests what to do after an error with the given cause.
func nextFor(err error) string {
	switch {
	case errors.Is(err, backup.ErrNoBackupDir):
		return "check --backup-dir: give the directory the backup was written to"
	case errors.Is(err, backup.ErrMissingFile):
		return "check --backup-dir, or restore only the databases you have with --only"
	case errors.Is(err, backup.ErrSetUnusable):
		return "pick a set that is created or restore-verified: `flowg admin backups list`, then --set ID (or leave out --set for the newest)"
	case errors.Is(err, backup.ErrNoCompleteSet):
		return "check --backup-dir and --only; take a set with `flowg admin backups create`, and list them with `flowg admin backups list`"
	case errors.Is(err, backup.ErrWrongDatabase):
		return "give each database its own file: auth.db, config.db, log.db (or logs.db)"
	case errors.Is(err, backup.ErrCompressed):
		return "decompress the file first (e.g. gunzip), then restore it"
	case errors.Is(err, backup.ErrVersion):
		return "restore with the flowg version that wrote the file, or a newer one"
	case errors.Is(err, backup.ErrEncrypted):
		return encryptedAdvice
	case errors.Is(err, backup.ErrWrongKey):
		return "this key does not open the file: give the identity or passphrase file the backup was encrypted with"
	case errors.Is(err, backup.ErrIncremental):
		return "restore the set it belongs to: flowg admin restore --backup-dir CATALOG --set ID (the whole chain is restored)"
	case errors.Is(err, backup.ErrTarget):
		return "check --backup-dir, --s3-endpoint, --s3-insecure and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the profile AWS_PROFILE)"
	case errors.Is(err, backup.ErrEmpty), errors.Is(err, backup.ErrNotBackup):
		return "check that the path names a file written by `flowg admin backup`, the online backup endpoint or `badger backup`"
	case backup.IsInputError(err):
		return "take a new backup, or check your other files with `flowg admin verify --backup-dir DIR`"
	case errors.Is(err, context.Canceled):
		return "the command was interrupted; run it again"
	}
	return ""
}
