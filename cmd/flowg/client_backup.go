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

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// trailerSHA256 is the HTTP trailer in which the server sends the SHA-256
// of a complete backup stream.
const trailerSHA256 = "X-Flowg-Backup-Sha256"

// backupDownload is one database's backup fetched into a temporary file and
// verified, not yet moved into place.
type backupDownload struct {
	name  kv.Name
	tmp   string
	entry backup.DBEntry
}

func clientBackup(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	names, err := namesFrom(c)
	if err != nil {
		return err
	}
	dir := c.String("backup-dir")
	if dir == "" {
		return usagef("name the directory to write into with --backup-dir")
	}
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	safe := fmt.Sprintf("nothing on the server was changed; earlier files in %s are unchanged", dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return opError{op: "backup", err: fmt.Errorf("create backup directory: %w", err), safe: safe,
			next: "choose a --backup-dir you can write to"}
	}
	m, err := backup.ReadManifest(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		m = backup.Manifest{}
	case err != nil:
		return opError{op: "backup", err: err, safe: safe,
			next: fmt.Sprintf("move %s aside, or choose another --backup-dir", filepath.Join(dir, backup.ManifestName))}
	}
	if m.Databases == nil {
		m.Databases = map[string]backup.DBEntry{}
	}

	start := time.Now()
	var done []backupDownload
	defer func() {
		for _, d := range done {
			os.Remove(d.tmp) // a no-op once moved into place
		}
	}()
	for _, name := range names {
		d, err := fetchBackup(c, api, dir, name)
		if err != nil {
			return err
		}
		done = append(done, d)
	}
	for _, d := range done {
		if err := os.Rename(d.tmp, filepath.Join(dir, d.entry.File)); err != nil {
			return opError{op: "backup", err: fmt.Errorf("move %s into place: %w", d.entry.File, err),
				safe: "every download was verified, but some files in " + dir + " may be of this run and others older"}
		}
	}
	if err := kv.SyncDir(dir); err != nil {
		return opError{op: "backup", err: err, safe: "the files are in place but may not be on disk yet"}
	}
	for _, d := range done {
		m.Databases[string(d.name)] = d.entry
	}
	m.Created = time.Now().UTC()
	m.Status = backup.StatusComplete
	m.Error = ""
	m.ToolVersion = version
	m.Verification = nil
	if allDownloadsVerified(m, done) {
		m.Verification = &backup.Verification{Time: m.Created, OK: true}
	}
	if err := backup.WriteManifest(dir, m); err != nil {
		return opError{op: "backup", err: err, safe: fmt.Sprintf("the verified files are in %s; only its manifest is stale", dir),
			next: "free some space and run the command again"}
	}
	for _, d := range done {
		e := d.entry
		fmt.Fprintf(c.App.Writer, "%-6s %8d keys %10s  %7s  sha256 %s  -> %s (verified)\n", d.name, e.Keys,
			humanize.IBytes(uint64(e.Bytes)), e.Duration.Round(time.Millisecond), shortSum(e.SHA256), filepath.Join(dir, e.File))
	}
	fmt.Fprintf(c.App.ErrWriter, "backup of %s from %s complete and verified in %s\n", joinNames(names), api.server, time.Since(start).Round(time.Millisecond))
	return nil
}

// allDownloadsVerified reports whether every database the manifest lists was
// downloaded and verified in this run.
func allDownloadsVerified(m backup.Manifest, done []backupDownload) bool {
	fresh := map[string]bool{}
	for _, d := range done {
		fresh[string(d.name)] = true
	}
	for name := range m.Databases {
		if !fresh[name] {
			return false
		}
	}
	return true
}

// fetchBackup downloads the backup of one database into a temporary file in dir
// and verifies it. On error the temporary file is removed.
func fetchBackup(c *cli.Context, api *apiClient, dir string, name kv.Name) (backupDownload, error) {
	op := "backup of " + string(name)
	safe := fmt.Sprintf("nothing on the server was changed; earlier files in %s are unchanged", dir)
	start := time.Now()
	resp, err := api.do(c.Context, http.MethodGet, "/api/v1/backup/"+string(name), nil, nil, 0, "")
	if err != nil {
		return backupDownload{}, api.clientError(op, err, safe, auth.BackupScopes(string(name)))
	}
	defer resp.Body.Close()

	file := backup.FileName(string(name))
	f, err := os.CreateTemp(dir, "."+file+".download-*")
	if err == nil {
		if err = f.Chmod(0o600); err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if err != nil {
		return backupDownload{}, opError{op: op, err: fmt.Errorf("create %s: %w", filepath.Join(dir, file), err), safe: safe,
			next: "choose a --backup-dir you can write to"}
	}
	tmp := f.Name()
	fail := func(err error, next string) (backupDownload, error) {
		f.Close()
		os.Remove(tmp)
		return backupDownload{}, opError{op: op, err: err, safe: safe + "; the partial download was deleted", next: next}
	}
	const retry = "run the command again; if the download is refused again, check the server's log"

	bar := newProgress(c.App.ErrWriter, "download "+string(name), resp.ContentLength)
	hdr, n, digest, err := receiveBackup(c.Context, resp, f, string(name), bar)
	bar.finish()
	if err != nil {
		if c.Context.Err() != nil {
			return fail(c.Context.Err(), "")
		}
		if backup.IsInputError(err) {
			return fail(fmt.Errorf("download from %s: %w", api.endpoint("/api/v1/backup/"+string(name), nil), err), retry)
		}
		return fail(fmt.Errorf("download: %w", err), retry)
	}
	// The server sends the file's SHA-256 as a trailer once the stream ended.
	if want := resp.Trailer.Get(trailerSHA256); want != "" && want != digest {
		return fail(fmt.Errorf("%w: the download's sha256 %s differs from the %s the server sent", backup.ErrChecksum, shortSum(digest), shortSum(want)), retry)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("write %s: %w", tmp, err), "free some space or choose another --backup-dir")
	}

	vhdr, sum, err := backup.VerifyFile(c.Context, tmp, backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(name)}, Load: true})
	if err == nil && sum.SHA256 != "" && sum.SHA256 != digest {
		err = fmt.Errorf("%w: the file on disk differs from what was downloaded", backup.ErrChecksum)
	}
	if err != nil {
		return fail(fmt.Errorf("verify the download: %w", err), retry)
	}
	entry := backup.DBEntry{
		File:          file,
		Format:        backup.FormatFlowg,
		Compression:   vhdr.Compression,
		Created:       vhdr.Created,
		Bytes:         n,
		Keys:          sum.Keys,
		LogicalBytes:  sum.Bytes,
		ReadTs:        vhdr.ReadTs,
		SHA256:        digest,
		ContentSHA256: sum.ContentSHA256,
		Duration:      time.Since(start),
		Source:        api.server,
	}
	if hdr.Raw {
		entry.Format, entry.Created = backup.FormatBadger, start.UTC()
		entry.Note = "the server sent a raw Badger stream, which carries no checksum"
		fmt.Fprintf(c.App.ErrWriter, "warning: %s: %s\n", name, backup.RawWarning)
	}
	return backupDownload{name: name, tmp: tmp, entry: entry}, nil
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
