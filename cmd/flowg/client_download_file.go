package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// One database's file downloaded from a running server into a temporary
// file and checked there, for downloadAll (client_download.go): a backup the
// server streams now is checked against its SHA-256 trailer, a file of a
// catalog set against the set's manifest.

// trailerSHA256 is the HTTP trailer in which the server sends the SHA-256
// of a complete backup stream.
const trailerSHA256 = "X-Flowg-Backup-Sha256"

// downloadSource is where fetchDownload gets one database's file and what it
// checks the file against.
type downloadSource struct {
	name  kv.Name
	op    string // names the download in errors: "backup of logs"
	path  string // URL path of the file on the server
	retry string // what to do when the server's file is refused
	// set is the catalog set the file belongs to: the file must match the
	// entry of the set's manifest. nil for a backup the server streams now,
	// checked against the SHA-256 trailer the server sends after it.
	set *backup.SetInfo
}

// serverBackup is the backup of name the server streams now, from
// GET /api/v1/backup/{db}.
func serverBackup(name kv.Name) downloadSource {
	return downloadSource{
		name:  name,
		op:    "backup of " + string(name),
		path:  "/api/v1/backup/" + string(name),
		retry: "run the command again; if the download is refused again, check the server's log",
	}
}

// setFile is database name's file of a set of the server's catalog, from
// GET /api/v1/backups/{id}/{db}.
func setFile(set *backup.SetInfo, name kv.Name) downloadSource {
	return downloadSource{
		name: name,
		op:   "download of " + string(name),
		path: "/api/v1/backups/" + set.ID + "/" + string(name),
		retry: fmt.Sprintf("run the command again; if the file is refused again, verify the set on the server (`flowg backups verify %s`) and pick another",
			set.ID),
		set: set,
	}
}

// want is the entry the set's manifest holds for the file.
func (s downloadSource) want() backup.DBEntry { return s.set.Databases[string(s.name)] }

// encrypted reports whether the file is encrypted: it is then hashed as it
// arrives but neither decoded nor loaded.
func (s downloadSource) encrypted() bool { return s.set != nil && s.want().Encrypted }

// transferError wraps an error met while the file arrived.
func (s downloadSource) transferError(api *apiClient, err error) error {
	switch {
	case s.set != nil:
		return fmt.Errorf("download %s: %w", api.endpoint(s.path, nil), err)
	case backup.IsInputError(err):
		return fmt.Errorf("download from %s: %w", api.endpoint(s.path, nil), err)
	}
	return fmt.Errorf("download: %w", err)
}

// checkSHA256 compares the SHA-256 of what arrived with the set's manifest,
// or with the trailer the server sent once its stream ended (when it sent one).
func (s downloadSource) checkSHA256(digest string, trailer http.Header) error {
	if s.set != nil {
		if want := s.want().SHA256; digest != want {
			return fmt.Errorf("%w: the download's sha256 %s differs from the %s the set's manifest records", backup.ErrChecksum, shortSum(digest), shortSum(want))
		}
		return nil
	}
	if want := trailer.Get(trailerSHA256); want != "" && want != digest {
		return fmt.Errorf("%w: the download's sha256 %s differs from the %s the server sent", backup.ErrChecksum, shortSum(digest), shortSum(want))
	}
	return nil
}

// receivedFile is what fetchDownload learnt of one file it downloaded.
type receivedFile struct {
	file    string         // name in the backup directory
	bytes   int64          // bytes written
	sha256  string         // of the bytes written
	raw     bool           // the server sent a raw Badger stream
	start   time.Time      // when the request was sent
	fetched time.Duration  // from start until the file was on disk
	header  backup.Header  // as loading the file read it; zero for an encrypted file
	sum     backup.Summary // what loading the file found; zero for an encrypted file
}

// checkLoaded compares what loading the file found with the bytes that
// arrived, or with the key count the set's manifest records.
func (s downloadSource) checkLoaded(got receivedFile) error {
	if s.set != nil {
		if want := s.want(); want.Format != backup.FormatBadger && got.sum.Keys != want.Keys {
			return fmt.Errorf("%w: the file holds %s, the set's manifest says %d", backup.ErrChecksum, countText(got.sum.Keys, "key"), want.Keys)
		}
		return nil
	}
	if got.sum.SHA256 != "" && got.sum.SHA256 != got.sha256 {
		return fmt.Errorf("%w: the file on disk differs from what was downloaded", backup.ErrChecksum)
	}
	return nil
}

// entry is the manifest entry that records the downloaded file: the set
// manifest's own entry for a file of a set, else one made from what loading
// the file found.
func (s downloadSource) entry(api *apiClient, got receivedFile) backup.DBEntry {
	if s.set != nil {
		e := s.want()
		e.File = got.file
		e.Bytes = got.bytes
		e.Duration = got.fetched
		e.Source = api.endpoint(s.path, nil)
		e.Note = fmt.Sprintf("set %s (%s, %s)", s.set.ID, orDash(s.set.Trigger), s.set.Label)
		return e
	}
	e := backup.DBEntry{
		File:         got.file,
		Format:       backup.FormatFlowg,
		Compression:  got.header.Compression,
		Created:      got.header.Created,
		Bytes:        got.bytes,
		Keys:         got.sum.Keys,
		LogicalBytes: got.sum.Bytes,
		ReadTs:       got.header.ReadTs,
		SHA256:       got.sha256,
		ContentSum:   got.sum.ContentSum,
		Duration:     time.Since(got.start),
		Source:       api.server,
	}
	if got.raw {
		e.Format, e.Created = backup.FormatBadger, got.start.UTC()
		e.Note = "the server sent a raw Badger stream, which carries no checksum"
	}
	return e
}

// fetchDownload downloads src into a temporary 0600 file in dir and checks
// it: every frame as it arrives, its SHA-256 (see checkSHA256), then a load
// into a scratch database (see checkLoaded). An encrypted file is checked by
// its SHA-256 alone. On error the temporary file is removed.
func fetchDownload(c *cli.Context, api *apiClient, dir string, src downloadSource) (backupDownload, error) {
	name := string(src.name)
	safe := downloadSafe(dir)
	start := time.Now()
	resp, err := api.do(c.Context, http.MethodGet, src.path, nil, nil, 0, "")
	if err != nil {
		return backupDownload{}, api.clientError(src.op, err, safe, auth.BackupScopes(name))
	}
	defer resp.Body.Close()

	file := backup.FileName(name)
	f, err := createDownloadFile(dir, file)
	if err != nil {
		return backupDownload{}, opError{op: src.op, err: fmt.Errorf("create %s: %w", filepath.Join(dir, file), err), safe: safe,
			next: "choose a --backup-dir you can write to"}
	}
	tmp := f.Name()
	fail := func(err error, next string) (backupDownload, error) {
		f.Close()
		os.Remove(tmp)
		return backupDownload{}, opError{op: src.op, err: err, safe: safe + "; the partial download was deleted", next: next}
	}

	bar := newProgress(c.App.ErrWriter, "download "+name, resp.ContentLength)
	var hdr backup.Header
	var n int64
	var digest string
	if src.encrypted() {
		n, digest, err = receiveOpaque(resp, f)
	} else {
		hdr, n, digest, err = receiveBackup(c.Context, resp, f, name, bar)
	}
	bar.finish()
	if err != nil {
		if c.Context.Err() != nil {
			return fail(c.Context.Err(), "")
		}
		return fail(src.transferError(api, err), src.retry)
	}
	if err := src.checkSHA256(digest, resp.Trailer); err != nil {
		return fail(err, src.retry)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("write %s: %w", tmp, err), "free some space or choose another --backup-dir")
	}
	got := receivedFile{file: file, bytes: n, sha256: digest, raw: hdr.Raw, start: start, fetched: time.Since(start)}

	if !src.encrypted() {
		got.header, got.sum, err = backup.VerifyFile(c.Context, tmp, backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: name}, Load: true})
		if err == nil {
			err = src.checkLoaded(got)
		}
		if err != nil {
			return fail(fmt.Errorf("verify the download: %w", err), src.retry)
		}
	}
	entry := src.entry(api, got)
	switch {
	case src.encrypted():
		fmt.Fprintf(c.App.ErrWriter, "warning: %s: the set is encrypted: its SHA-256 was checked, but it was not loaded; "+
			"verify it with `flowg admin verify --identity FILE`\n", name)
	case got.raw:
		fmt.Fprintf(c.App.ErrWriter, "warning: %s: %s\n", name, backup.RawWarning)
	}
	return backupDownload{name: src.name, tmp: tmp, entry: entry}, nil
}

// createDownloadFile creates a temporary 0600 file in dir to download file
// into.
func createDownloadFile(dir, file string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "."+file+".download-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// receiveBackup streams the response body into f, hashing it and checking every
// frame as it arrives, so a damaged download stops early. It returns the
// header, the bytes written and their SHA-256.
func receiveBackup(ctx context.Context, resp *http.Response, f *os.File, name string, bar *progress) (backup.Header, int64, string, error) {
	w := &downloadWriter{w: f, h: sha256.New()}
	src := io.TeeReader(resp.Body, w)
	size := resp.ContentLength
	if size < 0 {
		size = 0
	}
	r, err := backup.NewReader(src, backup.ReadOptions{Database: name, Size: size})
	if err != nil {
		return backup.Header{}, w.n, "", err
	}
	var keys uint64
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r.Header(), w.n, "", err
		}
		keys += uint64(len(kvs))
		bar.update(keys, uint64(w.n))
		if err := ctx.Err(); err != nil {
			return r.Header(), w.n, "", err
		}
	}
	return r.Header(), w.n, hex.EncodeToString(w.h.Sum(nil)), nil
}

// receiveOpaque copies the response body into f as it is (an encrypted file
// cannot be decoded on the way) and returns the bytes written and their
// SHA-256.
func receiveOpaque(resp *http.Response, f *os.File) (int64, string, error) {
	w := &downloadWriter{w: f, h: sha256.New()}
	n, err := io.Copy(w, resp.Body)
	return n, hex.EncodeToString(w.h.Sum(nil)), err
}

// downloadWriter writes to a file, counting and hashing what it wrote.
type downloadWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *downloadWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}
