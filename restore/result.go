package restore

import (
	"time"

	"github.com/flowg-backup/flowg/backup"
)

// The answers of a restore: the server encodes them, the client decodes
// the same types. Their shapes only ever gain fields.

// Result is the answer for one database restored.
type Result struct {
	Database       string  `json:"database"`
	Mode           string  `json:"mode"` // ModeMerge or ModeWipe
	Written        uint64  `json:"written"`
	ExpiredSkipped uint64  `json:"expired_skipped"`
	Added          *uint64 `json:"added,omitempty"` // merge: keys the database did not hold before
	File           File    `json:"file"`
	// SafetySnapshot is the id of the backup set, in the catalog, that
	// holds the database as it was before the restore.
	SafetySnapshot    string   `json:"safety_snapshot"`
	SafetySnapshotDir string   `json:"safety_snapshot_dir"`
	SetAside          string   `json:"set_aside"` // wipe: where the previous database directory was kept
	Undo              string   `json:"undo"`
	Warnings          []string `json:"warnings"`
	Duration          string   `json:"duration"`
	// Instant, for a restore to an instant, is the instant restored and
	// what it was rebuilt from.
	Instant *backup.PointInTime `json:"instant,omitempty"`
	// Notes say how the restore went, e.g. "into an empty database:
	// bulk-loaded".
	Notes []string `json:"notes,omitempty"`
	// DryRun is set for a dry run: nothing was written, and Plan says what
	// the restore would add, overwrite and (with wipe) remove.
	DryRun bool         `json:"dry_run,omitempty"`
	Plan   *backup.Plan `json:"plan,omitempty"`
}

// File describes the backup file a database was restored from.
type File struct {
	Name string `json:"name,omitempty"` // the multipart file name, or the set's file name
	// ServerFile names the file of the server's restore directory
	// (flowg serve --restore-dir) that was restored instead of an upload.
	ServerFile string     `json:"server_file,omitempty"`
	Format     string     `json:"format"` // flowg, or badger for a raw Badger stream
	Bytes      int64      `json:"bytes"`
	Keys       uint64     `json:"keys"`
	SHA256     string     `json:"sha256,omitempty"`
	Created    *time.Time `json:"created,omitempty"`
	ReadTs     uint64     `json:"read_ts,omitempty"`
}

// SetResult is the answer to a restore of a catalog set.
type SetResult struct {
	Set      string   `json:"set"`
	Mode     string   `json:"mode"`
	Restores []Result `json:"restores"` // one per database, in the order restored
	Warnings []string `json:"warnings"`
	Duration string   `json:"duration"`
	DryRun   bool     `json:"dry_run,omitempty"` // nothing was written; each restore has its plan
}

// AtResult is the answer to a restore to an instant of the journal.
type AtResult struct {
	At       string               `json:"at"` // as asked: an RFC 3339 time or latest
	Mode     string               `json:"mode"`
	Instants []backup.PointInTime `json:"instants"` // per database, the instant restored and from what
	Restores []Result             `json:"restores"`
	Deleted  map[string]int       `json:"deleted,omitempty"` // merge: keys deleted before the instant, per database
	Warnings []string             `json:"warnings"`
	Duration string               `json:"duration"`
	DryRun   bool                 `json:"dry_run,omitempty"`
}
