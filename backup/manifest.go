package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ManifestName is the manifest's file name in a backup directory.
const ManifestName = "manifest.json"

// Set statuses.
const (
	StatusComplete = "complete"
	StatusFailed   = "failed"
)

// Manifest describes a backup directory: which files it holds and what is
// in them. Its JSON shape only ever gains fields.
type Manifest struct {
	FormatVersion int       `json:"format_version"`
	ID            string    `json:"id,omitempty"`
	Created       time.Time `json:"created"`
	Trigger       string    `json:"trigger,omitempty"`
	By            string    `json:"by,omitempty"`
	Status        string    `json:"status"`
	Error         string    `json:"error,omitempty"`
	ToolVersion   string    `json:"tool_version,omitempty"`
	// Parent is the set an incremental set builds on (empty for a full set).
	Parent string `json:"parent,omitempty"`
	// FullReason says why a set asked to be incremental is full (a full
	// chain, a rebuilt database, no set to build on).
	FullReason string `json:"full_reason,omitempty"`
	// Encryption is "age" when the set's files are encrypted, else empty.
	Encryption   string             `json:"encryption,omitempty"`
	Databases    map[string]DBEntry `json:"databases"`
	Verification *Verification      `json:"verification,omitempty"`
}

// EncryptionAge marks a set encrypted with age.
const EncryptionAge = "age"

// DBEntry describes one database's file in a backup directory.
type DBEntry struct {
	File         string        `json:"file"`
	Format       FileFormat    `json:"format"`
	Compression  Compression   `json:"compression,omitempty"`
	Created      time.Time     `json:"created"`
	Bytes        int64         `json:"bytes"`
	Keys         uint64        `json:"keys"`
	LogicalBytes uint64        `json:"logical_bytes"`
	ReadTs       uint64        `json:"read_ts"`
	SHA256       string        `json:"sha256"`
	ContentSum   string        `json:"content_sum,omitempty"`
	Duration     time.Duration `json:"duration_ns"`
	Source       string        `json:"source,omitempty"`
	// ExcludedStreams are the stream globs left out of this file
	// (--exclude-stream; logs database only): their records and
	// configuration are not in it.
	ExcludedStreams []string `json:"excluded_streams,omitempty"`
	Note            string   `json:"note,omitempty"`
	// Encrypted files: SHA256 is of the stored (encrypted) bytes, PlainSHA256
	// of the flowg file inside.
	Encrypted   bool   `json:"encrypted,omitempty"`
	PlainSHA256 string `json:"plain_sha256,omitempty"`
	// Incremental files: the parent's read timestamp they build on, and
	// how many live keys their key list holds.
	SinceTs       uint64 `json:"since_ts,omitempty"`
	InventoryKeys uint64 `json:"inventory_keys,omitempty"`
	// Epoch is the database's epoch when it was read (see kv.Epoch).
	Epoch string `json:"epoch,omitempty"`
	// Journal, for an incremental file built from the continuous-backup
	// journal rather than by reading the database, names what it was
	// built from (see incremental_journal.go).
	Journal *JournalBuilt `json:"journal,omitempty"`
	// NotFromJournal says why an incremental file was read from the
	// database rather than built from the journal.
	NotFromJournal string `json:"not_from_journal,omitempty"`
}

// JournalBuilt names the journal segments an incremental file was built from.
type JournalBuilt struct {
	Chain        string `json:"chain"`
	FirstSegment uint64 `json:"first_segment"`
	LastSegment  uint64 `json:"last_segment"`
	// Changes counts the writes and deletes read from the segments
	// (several of one key count once each).
	Changes uint64 `json:"changes"`
}

// Verification records the last verification of a backup directory.
type Verification struct {
	Time  time.Time `json:"time"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
}

// ReadManifest reads dir's manifest. A directory without one returns an
// error wrapping os.ErrNotExist; a symbolic link or a special file (a FIFO)
// in its place one wrapping ErrNotRegularFile, at once.
func ReadManifest(dir string) (Manifest, error) {
	f, err := openRegularFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	return decodeManifest(io.LimitReader(f, 16<<20), filepath.Join(dir, ManifestName))
}

func decodeManifest(r io.Reader, name string) (Manifest, error) {
	var m Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return m, fmt.Errorf("read manifest %s: %w", name, err)
	}
	return m, nil
}

func encodeManifest(m Manifest) ([]byte, error) {
	if m.FormatVersion == 0 {
		m.FormatVersion = FormatVersion
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(body, '\n'), nil
}

// WriteManifest writes m to dir atomically (temporary file, fsync, rename,
// fsync of dir).
func WriteManifest(dir string, m Manifest) error {
	body, err := encodeManifest(m)
	if err != nil {
		return err
	}
	f, err := createTemp(dir, ManifestName)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.abandon()
		return fmt.Errorf("write manifest: %w", err)
	}
	if _, err := f.finish(); err != nil {
		os.Remove(f.f.Name())
		return err
	}
	if err := os.Rename(f.f.Name(), filepath.Join(dir, ManifestName)); err != nil {
		os.Remove(f.f.Name())
		return fmt.Errorf("write manifest: %w", err)
	}
	return syncDir(dir)
}

// readManifestOrEmpty is ReadManifest, with a fresh manifest for a directory
// that has none yet.
func readManifestOrEmpty(dir string) (Manifest, error) {
	m, err := ReadManifest(dir)
	if errors.Is(err, os.ErrNotExist) {
		return Manifest{Databases: map[string]DBEntry{}}, nil
	}
	if m.Databases == nil {
		m.Databases = map[string]DBEntry{}
	}
	return m, err
}
