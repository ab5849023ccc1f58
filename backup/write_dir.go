package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// Source is one database to back up.
type Source struct {
	Name string
	DB   *badger.DB
	// Note is recorded in the manifest (e.g. that the database was read from
	// a scratch copy because it had not been closed cleanly).
	Note string
}

// WriteOptions tune WriteDir.
type WriteOptions struct {
	Format      FileFormat
	Compression Compression
	ToolVersion string
	// Progress, when set, is called as each database is dumped.
	Progress func(db string, keys, bytes uint64)
	// Manifest seeds the manifest's ID, Trigger and By fields.
	Manifest Manifest
	// Keys encrypt the files (age) when they hold recipients.
	Keys Keys
}

// WriteDir dumps every source into dir (created 0700 if needed) as
// FileName(source) and records them in dir's manifest, which keeps the
// entries of databases not written this time. Each file is written under a
// temporary name and fsynced; only when all succeeded are they renamed into
// place, so a failed run leaves every earlier file in dir as it was.
func WriteDir(ctx context.Context, dir string, sources []Source, opts WriteOptions) (Manifest, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("create backup directory: %w", err)
	}
	m, err := readManifestOrEmpty(dir)
	if err != nil {
		return m, err
	}
	temps := make([]*hashingFile, 0, len(sources))
	defer func() {
		for _, t := range temps {
			t.abandon()
		}
	}()
	entries := make([]DBEntry, 0, len(sources))
	for _, src := range sources {
		tmp, entry, err := dumpToTemp(ctx, dir, src, opts)
		if err != nil {
			return m, fmt.Errorf("back up %s: %w", src.Name, err)
		}
		temps = append(temps, tmp)
		entries = append(entries, entry)
	}
	for i, tmp := range temps {
		if err := os.Rename(tmp.f.Name(), filepath.Join(dir, entries[i].File)); err != nil {
			return m, fmt.Errorf("move %s into place: %w", entries[i].File, err)
		}
	}
	temps = nil
	for i, src := range sources {
		m.Databases[src.Name] = entries[i]
	}
	m.ID, m.Trigger, m.By = opts.Manifest.ID, opts.Manifest.Trigger, opts.Manifest.By
	m.Created = time.Now().UTC()
	m.Status = StatusComplete
	m.Error = ""
	m.ToolVersion = opts.ToolVersion
	m.Verification = nil
	m.Encryption = ""
	if opts.Keys.Encrypts() {
		m.Encryption = EncryptionAge
	}
	if err := WriteManifest(dir, m); err != nil {
		return m, err
	}
	return m, nil
}

// dumpToTemp dumps one source into a finished temporary file in dir.
func dumpToTemp(ctx context.Context, dir string, src Source, opts WriteOptions) (*hashingFile, DBEntry, error) {
	name := FileName(src.Name)
	tmp, err := createTemp(dir, name)
	if err != nil {
		return nil, DBEntry{}, err
	}
	out, finish, err := encrypting(tmp, opts.Keys)
	if err != nil {
		tmp.abandon()
		return nil, DBEntry{}, err
	}
	start := time.Now()
	dump := DumpOptions{Database: src.Name, Format: opts.Format, Compression: opts.Compression, ToolVersion: opts.ToolVersion}
	if opts.Progress != nil {
		dump.Progress = func(keys, bytes uint64) { opts.Progress(src.Name, keys, bytes) }
	}
	hdr, sum, err := Dump(ctx, src.DB, out, dump)
	if err == nil {
		err = finish()
	}
	if err != nil {
		tmp.abandon()
		return nil, DBEntry{}, err
	}
	digest, err := tmp.finish()
	if err != nil {
		os.Remove(tmp.f.Name())
		return nil, DBEntry{}, err
	}
	format := opts.Format
	if format == "" {
		format = FormatFlowg
	}
	entry := DBEntry{
		File:         name,
		Format:       format,
		Compression:  hdr.Compression,
		Created:      hdr.Created,
		Bytes:        tmp.n,
		Keys:         sum.Keys,
		LogicalBytes: sum.Bytes,
		ReadTs:       hdr.ReadTs,
		SHA256:       digest,
		ContentSum:   sum.ContentSum,
		Duration:     time.Since(start),
		Note:         src.Note,
	}
	if opts.Keys.Encrypts() {
		entry.Encrypted, entry.PlainSHA256 = true, sum.SHA256
	}
	return tmp, entry, nil
}

func syncDir(dir string) error { return kv.SyncDir(dir) }
