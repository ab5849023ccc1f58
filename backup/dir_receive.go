package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// TrailerSHA256 is the HTTP trailer in which the server sends the SHA-256
// of a complete backup stream (GET /api/v1/backup/{db}, and a catalog
// set's file), and against which DirWriter.Receive checks what arrived.
const TrailerSHA256 = "X-Flowg-Backup-Sha256"

// Incoming is one database's backup file arriving as a stream, typically
// the body of an HTTP response, to be written into a backup directory by
// DirWriter.Receive.
type Incoming struct {
	Database string
	Body     io.Reader
	// Size is the length announced for Body, or -1 when unknown.
	Size int64
	// Trailer holds the HTTP trailers of the response carrying Body (Go
	// fills the map once Body is read to its end). When it holds
	// TrailerSHA256, what arrived must have that SHA-256.
	Trailer http.Header
	// Want, when set, is the manifest entry of the catalog set the file
	// comes from: the file must match it (SHA-256, key count, content hash)
	// and is recorded with it. An encrypted file is then hashed as it
	// arrives but neither decoded nor loaded.
	Want *DBEntry
	// Source and Note are recorded in the file's manifest entry (where it
	// was downloaded from; which set it is).
	Source string
	Note   string
	// Progress, when set, is called as records arrive.
	Progress func(keys, bytes uint64)
}

// encrypted reports whether the file arrives encrypted (see Want).
func (in Incoming) encrypted() bool { return in.Want != nil && in.Want.Encrypted }

// received is what Receive learnt of a file while it arrived.
type received struct {
	header Header
	sha256 string
	bytes  int64
}

// Receive writes in into a temporary file of the directory and checks it
// before Commit may move it into place: every frame as it arrives (so a
// damaged download stops early), its SHA-256 against Want or the trailer,
// then a load into a scratch database whose key count and content must be
// what arrived (or what Want records). It returns the file's manifest
// entry: Want's for a set's file, else one made from what loading found.
// On error the temporary file is removed and the *DirError says which
// step failed; a cancelled ctx stops the transfer.
func (w *DirWriter) Receive(ctx context.Context, in Incoming) (DBEntry, error) {
	start := time.Now()
	name := FileName(in.Database)
	tmp, err := createTemp(w.dir, name)
	if err != nil {
		return DBEntry{}, &DirError{Step: StepCreate, Database: in.Database, Err: err}
	}
	fail := func(step DirStep, err error) (DBEntry, error) {
		tmp.abandon()
		return DBEntry{}, &DirError{Step: step, Database: in.Database, Err: err}
	}
	got, err := receive(ctx, tmp, in)
	if err != nil {
		return fail(StepReceive, err)
	}
	if err := in.checkSHA256(got.sha256); err != nil {
		return fail(StepCheck, err)
	}
	if _, err := tmp.finish(); err != nil {
		return fail(StepWrite, err)
	}
	entry := in.entry(got, start)
	if !in.encrypted() {
		_, sum, err := VerifyFile(ctx, tmp.f.Name(), VerifyOptions{ReadOptions: ReadOptions{Database: in.Database}, Load: true})
		if err == nil {
			err = in.checkLoaded(entry, got, sum)
		}
		if err != nil {
			return fail(StepCheck, fmt.Errorf("verify the download: %w", err))
		}
		if in.Want == nil {
			entry.Keys, entry.LogicalBytes, entry.ContentSum = sum.Keys, sum.Bytes, sum.ContentSum
		}
	}
	entry.File, entry.Bytes, entry.SHA256 = name, got.bytes, got.sha256
	entry.Duration = time.Since(start)
	w.pending = append(w.pending, pendingFile{db: in.Database, tmp: tmp.f.Name(), entry: entry, loaded: !in.encrypted()})
	return entry, nil
}

// receive copies in's body into f: as it is when it arrives encrypted,
// else through a Reader that checks every frame on the way.
func receive(ctx context.Context, f *hashingFile, in Incoming) (received, error) {
	if in.encrypted() {
		_, err := io.Copy(f, in.Body)
		return received{sha256: hexDigest(f), bytes: f.n}, err
	}
	size := in.Size
	if size < 0 {
		size = 0
	}
	r, err := NewReader(io.TeeReader(in.Body, f), ReadOptions{Database: in.Database, Size: size})
	if err != nil {
		return received{bytes: f.n}, err
	}
	var keys uint64
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return received{header: r.Header(), bytes: f.n}, err
		}
		keys += uint64(len(kvs))
		if in.Progress != nil {
			in.Progress(keys, uint64(f.n))
		}
		if err := ctx.Err(); err != nil {
			return received{header: r.Header(), bytes: f.n}, err
		}
	}
	return received{header: r.Header(), sha256: hexDigest(f), bytes: f.n}, nil
}

// checkSHA256 compares the SHA-256 of what arrived with Want, or with the
// trailer the server sent once its stream ended (when it sent one).
func (in Incoming) checkSHA256(digest string) error {
	if in.Want != nil {
		if want := in.Want.SHA256; digest != want {
			return fmt.Errorf("%w: the download's sha256 %s differs from the %s the set's manifest records", ErrChecksum, short(digest), short(want))
		}
		return nil
	}
	if want := in.Trailer.Get(TrailerSHA256); want != "" && want != digest {
		return fmt.Errorf("%w: the download's sha256 %s differs from the %s the server sent", ErrChecksum, short(digest), short(want))
	}
	return nil
}

// checkLoaded compares what loading the file found (sum) with the bytes
// that arrived, or with what the set's manifest records.
func (in Incoming) checkLoaded(entry DBEntry, got received, sum Summary) error {
	if in.Want != nil {
		return in.Want.Match(got.sha256, sum)
	}
	if sum.SHA256 != "" && sum.SHA256 != got.sha256 {
		return fmt.Errorf("%w: the file on disk differs from what was downloaded", ErrChecksum)
	}
	return nil
}

// entry is the manifest entry that records the file: Want's own for a
// set's file, else one made from its header (Receive adds what loading it
// found).
func (in Incoming) entry(got received, start time.Time) DBEntry {
	if in.Want != nil {
		e := *in.Want
		e.Source, e.Note = in.Source, in.Note
		return e
	}
	e := DBEntry{
		Format:      FormatFlowg,
		Compression: got.header.Compression,
		Created:     got.header.Created,
		ReadTs:      got.header.ReadTs,
		Source:      in.Source,
		Note:        in.Note,
	}
	if got.header.Raw {
		e.Format, e.Created = FormatBadger, start.UTC()
		e.Note = "the server sent a raw Badger stream, which carries no checksum"
	}
	return e
}
