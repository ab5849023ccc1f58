package restore

import (
	"filippo.io/age"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Source is the backup one database is restored from, planned before
// anything is written (PlanDir, PlanSet, PlanAt, or a server's staged
// upload).
type Source struct {
	Database kv.Name
	// Shown names the file as the user knows it: a path, an s3:// URL,
	// "set ID", "the journal of ... at ...".
	Shown string
	// FileName is the file's own name (Result.File.Name).
	FileName string
	// ServerFile names the file of a server's --restore-dir restored
	// instead of an upload (Result.File.ServerFile).
	ServerFile string
	Open       backup.Opener
	Bytes      int64 // as stored, 0 if unknown
	Identities []age.Identity
	// SHA256 is what the file's SHA-256 must be (its set's manifest); ""
	// for no check.
	SHA256 string
	// Set is the catalog set the file belongs to ("" for a file).
	Set string
	// KeepStreams are the streams the backup left out (--exclude-stream):
	// a wipe keeps their current data.
	KeepStreams []string
	// Instant, for a restore to an instant, is the instant and what it was
	// rebuilt from; Deleted the keys deleted between its base set and the
	// instant, which a merge deletes too.
	Instant *backup.PointInTime
	Deleted [][]byte
	// Rebuilt, for a restore to an instant, is the database rebuilt at
	// it, which an offline wipe or load into an empty directory moves into
	// place rather than reading Open (see at_inplace.go).
	Rebuilt *backup.Rebuilt
	// Cleanup removes what planning staged; nil when nothing was.
	Cleanup func()
}

// Sources are the planned sources of one restore.
type Sources []Source

// Close runs every source's Cleanup.
func (ss Sources) Close() {
	for _, s := range ss {
		if s.Cleanup != nil {
			s.Cleanup()
		}
	}
}
