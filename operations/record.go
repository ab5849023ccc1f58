// Package operations keeps the history of the backups, verifications,
// restores and imports run against a backup catalog, in the catalog itself
// (one small JSON record per operation under operations/), so the runs of
// the server and of offline commands (flowg admin backup, restore, verify,
// import) are listed
// together; and tracks the ones running in this process, with their
// progress. Writing a record never fails the operation it describes.
package operations

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"time"
)

// Kinds of operation.
const (
	KindBackup  = "backup"
	KindVerify  = "verify"
	KindRestore = "restore"
	KindImport  = "import"
)

// States of an operation.
const (
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	// StateInterrupted is how a record left running by a process of this
	// host that is gone (killed, crashed, the machine restarted) is listed:
	// the work stopped part-way and will not end. The record itself is not
	// rewritten by those who read it.
	StateInterrupted = "interrupted"
)

// TriggerOffline is the trigger of the operations of a flowg admin command,
// beside backup.TriggerManual (the API) and backup.TriggerScheduled.
const TriggerOffline = "offline"

// DefaultKeep is flowg serve's --operations-keep: how many records the
// history keeps; the oldest beyond it are deleted as new ones are written.
const DefaultKeep = 1000

// Record is one operation as GET /api/v1/operations lists it. Its JSON
// shape only ever gains fields.
type Record struct {
	ID              string     `json:"id"`
	Kind            string     `json:"kind"`
	Trigger         string     `json:"trigger"`
	Who             string     `json:"who"`
	StartedAt       time.Time  `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at"`
	State           string     `json:"state"`
	Error           *string    `json:"error"`
	DurationSeconds float64    `json:"duration_seconds"`
	SetID           *string    `json:"set_id"`
	Databases       []string   `json:"databases"`
	Progress        *Progress  `json:"progress"`
	// PID and Host name the process that runs the operation, so a record
	// it left running when it died is listed interrupted.
	PID  int    `json:"pid,omitempty"`
	Host string `json:"host,omitempty"`
	// DryRun marks a restore's dry run: it wrote nothing, and its record is
	// kept in the memory of the process that ran it only.
	DryRun bool `json:"dry_run,omitempty"`
	// Result is the answer the operation's request got, kept in this
	// server's memory only (GET /api/v1/operations/:id of a recent one).
	Result json.RawMessage `json:"result,omitempty"`
}

// Progress is how far an operation got: bytes done and, when known, the
// total expected (0 when not known).
type Progress struct {
	DoneBytes  uint64 `json:"done_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
}

// idShape is the shape of an operation id: its start time to the
// microsecond, then 6 random hex digits, so ids sort by start time.
var idShape = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f]{6}$`)

// idTime is the layout of the time part of an id.
const idTime = "20060102T150405.000000Z"

// ValidID reports whether id has the shape of an operation id.
func ValidID(id string) bool { return idShape.MatchString(id) }

// newID returns the id of an operation started at t.
func newID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format(idTime) + "-" + hex.EncodeToString(b[:])
}

// recordName is the name of the record of operation id in the catalog.
func recordName(id string) string { return id + ".json" }
