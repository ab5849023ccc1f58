package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// One database's file requested from a running server and handed, as it
// arrives, to backup.DirWriter.Receive, which checks it: a backup the server
// streams now against its SHA-256 trailer, a file of a catalog set against
// the set's manifest.

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

// incoming describes the response to src's request for backup.DirWriter.
func (s downloadSource) incoming(api *apiClient, resp *http.Response, bar *progress) backup.Incoming {
	in := backup.Incoming{Database: string(s.name), Body: resp.Body, Size: resp.ContentLength, Trailer: resp.Trailer,
		Source: api.server, Progress: bar.update}
	if s.set != nil {
		want := s.set.Databases[string(s.name)]
		in.Want = &want
		in.Source = api.endpoint(s.path, nil)
		in.Note = fmt.Sprintf("set %s (%s, %s)", s.set.ID, orDash(s.set.Trigger), s.set.Label)
	}
	return in
}

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

// fetchDownload requests src and writes it into w's directory (see
// backup.DirWriter.Receive), warning when the file could not be loaded
// (encrypted) or carries no checksum (a raw Badger stream).
func fetchDownload(c *cli.Context, api *apiClient, w *backup.DirWriter, src downloadSource) (backup.DBEntry, error) {
	name := string(src.name)
	safe := downloadSafe(w.Dir())
	resp, err := api.do(c.Context, http.MethodGet, src.path, nil, nil, 0, "")
	if err != nil {
		return backup.DBEntry{}, api.clientError(src.op, err, safe, auth.BackupScopes(name))
	}
	defer resp.Body.Close()

	bar := newProgress(c.App.ErrWriter, "download "+name, resp.ContentLength)
	entry, err := w.Receive(c.Context, src.incoming(api, resp, bar))
	bar.finish()
	if err != nil {
		return entry, src.failure(c, api, w.Dir(), err)
	}
	switch {
	case entry.Encrypted:
		fmt.Fprintf(c.App.ErrWriter, "warning: %s: the set is encrypted: its SHA-256 was checked, but it was not loaded; "+
			"verify it with `flowg admin verify --identity FILE`\n", name)
	case entry.Format == backup.FormatBadger:
		fmt.Fprintf(c.App.ErrWriter, "warning: %s: %s\n", name, backup.RawWarning)
	}
	return entry, nil
}

// failure words an error of receiving src: a refused file says to retry
// (src.retry), as dirFailure words the directory's own errors.
func (s downloadSource) failure(c *cli.Context, api *apiClient, dir string, err error) error {
	var de *backup.DirError
	if !errors.As(err, &de) || (de.Step != backup.StepReceive && de.Step != backup.StepCheck) {
		return dirFailure(c, s.op, dir, err)
	}
	e := opError{op: s.op, err: err, safe: downloadSafe(dir) + "; the partial download was deleted", next: s.retry}
	switch {
	case c.Context.Err() != nil:
		e.err, e.next = c.Context.Err(), ""
	case de.Step == backup.StepReceive:
		e.err = s.transferError(api, de.Err)
	}
	return e
}
