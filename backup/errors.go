package backup

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned while reading a backup wraps exactly
// one of the first group, so both doors (CLI and HTTP) can map it to a message
// and a status in one place. None of them is returned after a database was
// changed: files are checked whole before the first key is written.
var (
	// ErrEmpty is returned for a file of zero bytes.
	ErrEmpty = errors.New("backup file is empty")
	// ErrTruncated is returned when a file ends before its end marker.
	ErrTruncated = errors.New("backup file is truncated")
	// ErrChecksum is returned when a header, frame or file checksum does not match.
	ErrChecksum = errors.New("backup file checksum mismatch")
	// ErrCorrupt is returned when a file's structure is invalid: an unknown
	// frame kind, a length beyond its bound, undecodable records, or bytes
	// after the end marker.
	ErrCorrupt = errors.New("backup file is corrupt")
	// ErrNotBackup is returned for a file that is neither a flowg backup nor
	// a raw Badger backup stream; ErrCompressed for a gzip/zstd/xz-wrapped one.
	ErrNotBackup  = errors.New("not a backup file")
	ErrCompressed = errors.New("backup file is wrapped in a compressor")
	// ErrVersion is returned for a file written by a newer, unknown format version.
	ErrVersion = errors.New("unsupported backup format version")
	// ErrWrongDatabase is returned when a file holds another database than the
	// one being restored (e.g. config.db given to an auth restore).
	ErrWrongDatabase = errors.New("backup file is of another database")
	// ErrIncremental is returned when an incremental backup file is given on
	// its own: it is restored through its set's chain.
	ErrIncremental = errors.New("backup file is an incremental backup")
)

// Errors of restore and of backup directories.
var (
	// ErrMissingFile is returned when a backup directory lacks a database's file.
	ErrMissingFile = errors.New("backup file not found")
	// ErrNotRegularFile is returned when a catalog set holds a symbolic link
	// or a special file where flowg wrote a file (or a link in place of the
	// set's directory): it is never followed nor read.
	ErrNotRegularFile = errors.New("not a regular file written by flowg (a symbolic link or special file is in its place)")
	// ErrNoBackupDir is matched, with ErrMissingFile, by the error of a
	// backup directory that does not exist (FindFile).
	ErrNoBackupDir = errors.New("backup directory does not exist")
	// ErrSetUnusable is returned for a set asked for by id that cannot be
	// restored: its run failed or is still running, or its verification
	// failed (the error says which, and why).
	ErrSetUnusable = errors.New("backup set cannot be restored")
	// ErrNoCompleteSet is returned when a catalog holds no complete set
	// with every database asked for.
	ErrNoCompleteSet = errors.New("no complete backup set")
	// ErrTooLarge is returned (see SizeGuard, ReadOptions.MaxBytes) for a
	// backup whose records add up to more than a restore's limit, before
	// anything was written to the database.
	ErrTooLarge = errors.New("backup is larger than this restore allows")
	// ErrNoSpace is returned (see SizeGuard) for a backup whose records
	// would not fit in the free space of the database's disk, before
	// anything was written.
	ErrNoSpace = errors.New("not enough free disk space for this restore")
	// ErrTooManySafetyCopies is returned (see CheckSafetyRoom) for a restore
	// of a database that already has as many safety copies of earlier
	// restores as allowed, before anything was written.
	ErrTooManySafetyCopies = errors.New("too many safety copies")
	// ErrDamagedDatabase is returned by a merge rebuilt beside a database
	// whose tables could not all be read (see readHeld), before the
	// database was changed.
	ErrDamagedDatabase = errors.New("the database's files are damaged")
)

// noBackupDirError is the error of a backup directory that does not exist.
type noBackupDirError struct{ dir string }

func (e noBackupDirError) Error() string {
	return fmt.Sprintf("%v: backup directory %s does not exist", ErrMissingFile, e.dir)
}

func (e noBackupDirError) Is(target error) bool {
	return target == ErrMissingFile || target == ErrNoBackupDir
}

// IsInputError reports whether err is the fault of the backup file given
// (any of the reading sentinels), as opposed to an I/O or database failure.
func IsInputError(err error) bool {
	for _, target := range []error{ErrEmpty, ErrTruncated, ErrChecksum, ErrCorrupt,
		ErrNotBackup, ErrCompressed, ErrVersion, ErrWrongDatabase, ErrMissingFile, ErrEncrypted, ErrWrongKey, ErrIncremental, ErrSetUnusable, ErrNoCompleteSet} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
