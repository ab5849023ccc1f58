package backup

import (
	"context"
	"io"
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

// WriteOptions tune how a backup file is written: into a flat directory
// (DirWriter.Dump, WriteDir) or into a catalog set (Catalog.Create).
type WriteOptions struct {
	Format      FileFormat
	Compression Compression
	ToolVersion string
	// Progress, when set, is called as each database is dumped.
	Progress func(db string, keys, bytes uint64)
	// Keys encrypt the files (age) when they hold recipients.
	Keys Keys
	// ExcludeStreams leaves the streams matching these globs out of the
	// logs database's file (see CheckExcludeStreams); its manifest entry
	// records them.
	ExcludeStreams []string
}

// dumpSource dumps src into w, encrypted to opts.Keys when they hold
// recipients, and describes the file it made. SinceTs makes it an
// incremental dump on top of that read timestamp. The entry's File, Bytes
// and SHA256 are the caller's to fill: they are of the bytes as stored,
// which only the caller counts (a flat directory's temporary file, a set's
// object). A catalog set (writeSetFile) and a flat directory
// (DirWriter.Dump) both dump through it.
func dumpSource(ctx context.Context, w io.Writer, src Source, opts WriteOptions, sinceTs uint64) (DBEntry, error) {
	out, finish, err := encrypting(w, opts.Keys)
	if err != nil {
		return DBEntry{}, err
	}
	start := time.Now()
	epoch, err := kv.Epoch(src.DB)
	if err != nil {
		return DBEntry{}, err
	}
	dump := DumpOptions{Database: src.Name, Format: opts.Format, Compression: opts.Compression, ToolVersion: opts.ToolVersion,
		SinceTs: sinceTs, ExcludeStreams: excludesFor(src.Name, opts.ExcludeStreams)}
	if opts.Progress != nil {
		dump.Progress = func(keys, bytes uint64) { opts.Progress(src.Name, keys, bytes) }
	}
	hdr, sum, err := Dump(ctx, src.DB, out, dump)
	if err == nil {
		err = finish()
	}
	if err != nil {
		return DBEntry{}, err
	}
	format := opts.Format
	if format == "" {
		format = FormatFlowg
	}
	entry := DBEntry{
		Format: format, Compression: hdr.Compression, Created: hdr.Created,
		Keys: sum.Keys, LogicalBytes: sum.Bytes, ReadTs: hdr.ReadTs,
		ContentSum: sum.ContentSum, Duration: time.Since(start), Note: src.Note,
		SinceTs: hdr.SinceTs, InventoryKeys: sum.Inventory, Epoch: epoch,
		ExcludedStreams: dump.ExcludeStreams,
	}
	if opts.Keys.Encrypts() {
		entry.Encrypted = true
		entry.PlainSHA256 = sum.SHA256
	}
	return entry, nil
}
