package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/restore"
	"github.com/urfave/cli/v2"
)

func clientRestoreCommand() *cli.Command {
	return withJSONReport(&cli.Command{
		Name:      "restore",
		Usage:     "check backup files locally, then restore them into a running server",
		UsageText: "flowg restore [--server URL] [--token TOKEN] --backup-dir DIR [--only auth,config,logs] [--wipe] [--dry-run]",
		Description: `Finds DIR/auth.db, DIR/config.db and DIR/log.db (or logs.db), checks every file
(checksums, trailer, database name) before the first byte is sent, and refuses
to upload anything if one is bad. Then posts each file as the raw request body
to POST /api/v1/restore/{auth,config,logs}; the server checks it again before
writing and keeps a safety snapshot (trigger pre_restore, in its --backup-dir)
of the database it changes. Local files are only read.

By default the server merges: every key of the backup overwrites the database's
value; keys the backup lacks are kept. With --wipe each database afterwards
holds exactly the backup's keys (its requests get 503 while it is reloaded;
the other databases keep serving).

With --dry-run the server checks each file whole and says what the restore
would add, overwrite and (with --wipe) remove; it writes nothing and keeps no
safety snapshot.

The token (--token or FLOWG_TOKEN) needs, per database:
   auth    write_acls
   config  write_pipelines, write_transformers, write_alerts
   logs    write_streams

Examples:
   flowg restore --server http://localhost:5080 --backup-dir ./backup
   flowg restore --backup-dir ./backup --only config --wipe
   FLOWG_TOKEN=jwt:$(flowg login --username root) flowg restore --backup-dir ./backup --only logs`,
		Flags: []cli.Flag{
			serverFlag(), caCertFlag(),
			tokenFlag(),
			&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory holding auth.db, config.db and log.db (or logs.db)"},
			onlyFlag(),
			&cli.BoolFlag{Name: "wipe", Usage: "destructive: afterwards each database holds exactly the backup's keys"},
			dryRunFlag(),
		},
		Action: clientRestore,
	})
}

// restoreUpload is one database's backup file, checked locally, to send.
type restoreUpload struct {
	name kv.Name
	path string
	hdr  backup.Header
	sum  backup.Summary
}

// maxRestoreAnswer bounds the restore answer read.
const maxRestoreAnswer = 1 << 20

func clientRestore(c *cli.Context) error {
	names, err := namesWithoutArgs(c)
	if err != nil {
		return err
	}
	dir, api, err := backupDirAndClient(c, "name the directory holding the backup files with --backup-dir")
	if err != nil {
		return err
	}
	wipe := c.Bool("wipe")
	errOut := c.App.ErrWriter

	// Check every file before anything is sent, so a bad log.db does not
	// leave auth restored and logs not.
	const nothingSent = "nothing was sent; the server is unchanged"
	var uploads []restoreUpload
	for _, name := range names {
		path, err := backup.FindFile(dir, string(name))
		if err != nil {
			return opError{op: "restore", err: err, safe: nothingSent}
		}
		hdr, sum, err := backup.VerifyFile(c.Context, path, backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(name)}})
		if err == nil {
			if m, merr := backup.ReadManifest(dir); merr == nil {
				err = m.MatchFile(c.Context, string(name), path, nil)
			}
		}
		if err != nil {
			return opError{op: "restore", err: fmt.Errorf("%s: %w", path, err), safe: nothingSent, next: uploadNext(err)}
		}
		if hdr.Raw {
			fmt.Fprintf(errOut, "warning: %s: %s\n", path, backup.RawWarning)
		}
		uploads = append(uploads, restoreUpload{name: name, path: path, hdr: hdr, sum: sum})
	}
	fmt.Fprintf(errOut, "checked %s in %s: checksums, trailers and database names hold\n", countText(len(uploads), "file"), dir)
	if wipe && !c.Bool("dry-run") {
		fmt.Fprintf(errOut, "--wipe: afterwards %s on %s will hold exactly the backup's keys; keys written since the backup are removed\n",
			joinNames(names), api.server)
	}

	start := time.Now()
	for i, u := range uploads {
		if err := sendBackup(c, api, u, wipe); err != nil {
			return withProgress(err, uploads[:i], uploads[i+1:])
		}
	}
	if c.Bool("dry-run") {
		reportOf(c).set("dry_run", true)
		fmt.Fprintf(errOut, "dry run on %s: nothing was written\n", api.server)
		return nil
	}
	fmt.Fprintf(errOut, "restore of %s into %s complete in %s\n", joinNames(names), api.server, shortDuration(time.Since(start)))
	return nil
}

func dryRunFlag() cli.Flag {
	return &cli.BoolFlag{Name: "dry-run", Usage: "the server checks each file whole and says what would be added, overwritten and (with --wipe) removed; nothing is written, no safety snapshot is taken"}
}

// sendBackup posts one file to the restore endpoint, streamed from disk, and
// prints the server's answer.
func sendBackup(c *cli.Context, api *apiClient, u restoreUpload, wipe bool) error {
	op := "restore of " + string(u.name)
	f, size, err := openUpload(u.path)
	if err != nil {
		return opError{op: op, err: err, safe: fmt.Sprintf("%s on the server is unchanged", u.name)}
	}
	defer f.Close()
	query := url.Values{}
	if wipe {
		query.Set("wipe", "true")
	}
	dryRun := c.Bool("dry-run")
	if dryRun {
		query.Set("dry_run", "true")
	}
	bar := newProgress(c.App.ErrWriter, "upload "+string(u.name), size)
	body := &uploadProgress{r: f, size: size, keys: u.sum.Keys, bar: bar}
	start := time.Now()
	resp, err := api.do(c.Context, http.MethodPost, "/api/v1/restore/"+string(u.name), query, body, size, "application/octet-stream")
	bar.finish()
	if err != nil {
		return uploadFailed(api, op, u.name, err,
			fmt.Sprintf("the server checks a whole upload before writing, so %s is unchanged unless the upload had reached it whole; check the server's log", u.name))
	}
	defer resp.Body.Close()
	elapsed := time.Since(start)

	var ans restore.Result
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRestoreAnswer))
	if err != nil || json.Unmarshal(b, &ans) != nil {
		fmt.Fprintf(c.App.ErrWriter, "warning: the server accepted the %s restore but its answer could not be read; the figures below are the local file's\n", u.name)
		ans = restore.Result{Written: u.sum.Keys}
	}
	printWarnings(c.App.ErrWriter, ans.Warnings)
	if ans.File.SHA256 != "" && u.sum.SHA256 != "" && ans.File.SHA256 != u.sum.SHA256 {
		fmt.Fprintf(c.App.ErrWriter, "warning: the server read sha256 %s for %s, the local file has %s\n", shortSum(ans.File.SHA256), u.name, shortSum(u.sum.SHA256))
	}
	if dryRun && !ans.DryRun {
		return opError{op: op, err: fmt.Errorf("the server at %s does not know dry_run and restored %s", api.server, u.name),
			safe: "the server kept its safety snapshot: " + orDash(ans.Undo), next: "upgrade the server before using --dry-run"}
	}
	if dryRun && ans.Plan != nil {
		printPlan(c, string(u.name), u.path, *ans.Plan)
		return nil
	}
	printSent(c, api, u, ans, elapsed, wipe)
	reportOf(c).add("databases", map[string]any{"file": u.path, "server": api.server, "answer": ans})
	switch {
	case ans.Undo != "":
		fmt.Fprintf(c.App.ErrWriter, "  to undo: %s\n", ans.Undo)
	case ans.SafetySnapshot != "":
		fmt.Fprintf(c.App.ErrWriter, "  the server kept a safety snapshot of %s from before the restore: %s (%s)\n", u.name, ans.SafetySnapshot, ans.SafetySnapshotDir)
	}
	return nil
}

// openUpload opens the file at path to send as a request body and
// returns it with its size.
func openUpload(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// uploadFailed is the error of op, the upload of database name that failed
// with err: when the server answered, it changed nothing; when the request
// broke on the way, unsent says what the server may have done.
func uploadFailed(api *apiClient, op string, name kv.Name, err error, unsent string) error {
	safe := fmt.Sprintf("the server changed nothing in %s", name)
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		safe = unsent
	}
	return api.clientError(op, err, safe, auth.RestoreScopes(string(name)))
}

func printSent(c *cli.Context, api *apiClient, u restoreUpload, ans restore.Result, elapsed time.Duration, wipe bool) {
	how := "merged into"
	if wipe {
		how = "wiped and restored on"
	}
	size := ans.File.Bytes
	if size == 0 {
		size = u.sum.FileBytes
	}
	sum := ans.File.SHA256
	if sum == "" {
		sum = u.sum.SHA256
	}
	took := elapsed
	if d, err := time.ParseDuration(ans.Duration); err == nil && d > 0 {
		took = d
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%s  %s %s from %s",
		fileFigures(string(u.name), ans.Written, uint64(size), shortDuration(took), sum), how, api.server, u.path)
	if ans.ExpiredSkipped > 0 {
		fmt.Fprintf(w, " (%s skipped)", countText(ans.ExpiredSkipped, "expired record"))
	}
	fmt.Fprintln(w)
}

// withProgress adds to the safe line of a failed restore which databases
// were already restored and which were not tried.
func withProgress(err error, restored, untried []restoreUpload) error {
	var op opError
	if !errors.As(err, &op) || (len(restored) == 0 && len(untried) == 0) {
		return err
	}
	var parts []string
	if op.safe != "" {
		parts = append(parts, op.safe)
	}
	if len(restored) > 0 {
		parts = append(parts, "already restored: "+restoreUploadNames(restored))
	}
	if len(untried) > 0 {
		parts = append(parts, "not sent: "+restoreUploadNames(untried))
	}
	op.safe = strings.Join(parts, "; ")
	return op
}

func restoreUploadNames(us []restoreUpload) string {
	names := make([]kv.Name, len(us))
	for i, u := range us {
		names[i] = u.name
	}
	return joinNames(names)
}

// uploadProgress reports an upload's progress. Keys are estimated from the
// share of the file sent, as the records are not decoded on the way.
type uploadProgress struct {
	r    io.Reader
	size int64
	keys uint64
	sent int64
	bar  *progress
}

func (p *uploadProgress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.sent += int64(n)
	keys := p.keys
	if p.size > 0 && p.sent < p.size {
		keys = uint64(float64(p.keys) * float64(p.sent) / float64(p.size))
	}
	p.bar.update(keys, uint64(p.sent))
	return n, err
}

// uploadNext advises on a file refused before upload: the server restores
// plain files only, so an encrypted one is decrypted first or restored
// offline (empty for other causes: nextFor's advice applies).
func uploadNext(err error) string {
	if errors.Is(err, backup.ErrEncrypted) {
		return "the server restores plain files only: decrypt it first (age -d -i KEYFILE -o FILE.plain FILE), " +
			"or restore it offline with `flowg admin restore --identity KEYFILE`"
	}
	return ""
}
