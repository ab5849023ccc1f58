package backup

import (
	"encoding/json"
	"errors"
	"fmt"
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
	FormatVersion int                `json:"format_version"`
	ID            string             `json:"id,omitempty"`
	Created       time.Time          `json:"created"`
	Trigger       string             `json:"trigger,omitempty"`
	By            string             `json:"by,omitempty"`
	Status        string             `json:"status"`
	Error         string             `json:"error,omitempty"`
	ToolVersion   string             `json:"tool_version,omitempty"`
	Databases     map[string]DBEntry `json:"databases"`
	Verification  *Verification      `json:"verification,omitempty"`
}

// DBEntry describes one database's file in a backup directory.
type DBEntry struct {
	File          string        `json:"file"`
	Format        FileFormat    `json:"format"`
	Compression   Compression   `json:"compression,omitempty"`
	Created       time.Time     `json:"created"`
	Bytes         int64         `json:"bytes"`
	Keys          uint64        `json:"keys"`
	LogicalBytes  uint64        `json:"logical_bytes"`
	ReadTs        uint64        `json:"read_ts"`
	SHA256        string        `json:"sha256"`
	ContentSHA256 string        `json:"content_sha256,omitempty"`
	Duration      time.Duration `json:"duration_ns"`
	Source        string        `json:"source,omitempty"`
	Note          string        `json:"note,omitempty"`
}

// Verification records the last verification of a backup directory.
type Verification struct {
	Time  time.Time `json:"time"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
}

// ReadManifest reads dir's manifest. A directory without one returns an
// error wrapping os.ErrNotExist.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read manifest %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return m, nil
}

// WriteManifest writes m to dir atomically (temporary file, fsync, rename,
// fsync of dir).
func WriteManifest(dir string, m Manifest) error {
	if m.FormatVersion == 0 {
		m.FormatVersion = FormatVersion
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	f, err := createTemp(dir, ManifestName)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(body, '\n')); err != nil {
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
