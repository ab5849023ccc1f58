package backup

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Destination is where a backup of databases on this disk goes (`flowg
// admin backup`). OpenDestination chooses, by the target, between the two
// models, and nothing above it does: a local path is a flat backup
// directory written through a DirWriter (temporary files, then renames),
// while an s3:// target, where objects cannot be renamed into place, gets
// a new set of the catalog there, written beside the earlier ones, so a
// failed run never replaces the only off-site copy.
type Destination struct {
	target  string
	catalog *Catalog // nil for a flat directory
}

// OpenDestination opens target for Write: a directory (created by Write),
// or an s3://bucket/prefix catalog, checked at once, whose new sets are
// encrypted to keys.
func OpenDestination(ctx context.Context, target string, s3 S3Options, keys Keys) (*Destination, error) {
	d := &Destination{target: target}
	if !IsS3URL(target) {
		return d, nil
	}
	cat, err := OpenTarget(ctx, target, s3)
	if err != nil {
		return nil, fmt.Errorf("open backup target: %w", err)
	}
	d.catalog = cat.WithKeys(keys)
	return d, nil
}

// Written is what Destination.Write wrote.
type Written struct {
	Manifest Manifest
	// Where holds the files: the directory, or the set's URL.
	Where string
	// Databases are the databases written, in the order of the sources.
	Databases []string
}

// Write backs every source up to the destination: WriteDir for a
// directory, Catalog.Create (trigger manual, by by) for a catalog. Either
// way a failed run leaves the earlier backups as they were.
func (d *Destination) Write(ctx context.Context, sources []Source, opts WriteOptions, by string) (Written, error) {
	w := Written{Where: d.target}
	for _, src := range sources {
		w.Databases = append(w.Databases, src.Name)
	}
	var err error
	if d.catalog == nil {
		w.Manifest, err = WriteDir(ctx, d.target, sources, opts)
		return w, err
	}
	w.Manifest, err = d.catalog.Create(ctx, sources, SetOptions{WriteOptions: opts, Trigger: TriggerManual, By: by})
	w.Where = strings.TrimSuffix(d.target, "/") + "/" + w.Manifest.ID
	return w, err
}

// Verify reads back every file w wrote, loading each into a scratch
// database and comparing it with w's manifest (StoredFile.Check), and
// returns what each held. For a set the result is
// recorded in its manifest (Catalog.Verify), and a set that fails is an
// error saying why.
func (d *Destination) Verify(ctx context.Context, w Written, keys Keys) (map[string]Summary, error) {
	if d.catalog != nil {
		info, err := d.catalog.Verify(ctx, w.Manifest.ID, time.Now())
		if err != nil {
			return nil, err
		}
		if info.Label != LabelRestoreVerified {
			return nil, fmt.Errorf("set %s: %s: %s", info.ID, info.Label, info.Problem)
		}
		got := map[string]Summary{}
		for db, e := range info.Databases {
			got[db] = Summary{Keys: e.Keys, Bytes: e.LogicalBytes, SHA256: e.PlainSHA256}
		}
		return got, nil
	}
	got := map[string]Summary{}
	for _, db := range w.Databases {
		e := w.Manifest.Databases[db]
		path := filepath.Join(w.Where, e.File)
		f := StoredFile{Database: db, Name: path, Entry: &e, open: FileOpener(path), hint: dirMismatchHint}
		_, sum, err := f.Check(ctx, VerifyOptions{Load: true, Identities: keys.Identities})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		got[db] = sum
	}
	return got, nil
}
