package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// restoreReply is the answer to a completed restore. Its shape only ever
// gains fields.
type restoreReply struct {
	Database       string    `json:"database"`
	Mode           string    `json:"mode"` // merge or wipe
	Written        uint64    `json:"written"`
	ExpiredSkipped uint64    `json:"expired_skipped"`
	Added          *uint64   `json:"added,omitempty"` // merge: keys the database did not hold before
	File           fileReply `json:"file"`
	// SafetySnapshot is the id of the backup set, in the server's backup
	// catalog, that holds the database as it was before the restore.
	SafetySnapshot    string   `json:"safety_snapshot"`
	SafetySnapshotDir string   `json:"safety_snapshot_dir"`
	SetAside          string   `json:"set_aside"` // wipe: where the previous database directory was kept
	Undo              string   `json:"undo"`
	Warnings          []string `json:"warnings"`
	Duration          string   `json:"duration"`
}

// fileReply describes the uploaded backup file.
type fileReply struct {
	Name    string     `json:"name,omitempty"` // the multipart file name
	Format  string     `json:"format"`         // flowg, or badger for a raw Badger stream
	Bytes   int64      `json:"bytes"`
	Keys    uint64     `json:"keys"`
	SHA256  string     `json:"sha256,omitempty"`
	Created *time.Time `json:"created,omitempty"`
	ReadTs  uint64     `json:"read_ts,omitempty"`
}

// restore restores one database from an upload (POST /api/v1/restore/:db,
// ?wipe=true for a destructive restore). The upload is staged to a file and
// then restored by restoreFromFile, as a set of the catalog is.
func (s *Server) restore(c echo.Context) error {
	name, err := dbParam(c)
	if err != nil {
		return err
	}
	if err := require(c, auth.RestoreScopes(string(name))...); err != nil {
		return err
	}
	if s.opts.NoOnlineRestore {
		return restoreDisabled(name)
	}
	p, err := restoreParamsOf(c)
	if err != nil {
		return err
	}
	warnings, err := s.guard(c, p, []kv.Name{name})
	if err != nil {
		return err
	}
	end, err := s.beginRestore(name)
	if err != nil {
		return err
	}
	defer end()
	reply, err := s.restoreFromFile(c, name, p, func() (*restoreSource, error) {
		u, err := s.stageUpload(c, name)
		if err != nil {
			return nil, err
		}
		return &restoreSource{open: backup.FileOpener(u.path), fileName: u.fileName, size: u.size, uploaded: u.size, cleanup: u.remove}, nil
	})
	if err != nil {
		return err
	}
	reply.Warnings = append(append([]string{}, warnings...), reply.Warnings...)
	return c.JSON(http.StatusOK, reply)
}

// setRestoreReply is the answer to a completed restore of a catalog set.
// Its shape only ever gains fields.
type setRestoreReply struct {
	Set      string         `json:"set"`
	Mode     string         `json:"mode"`
	Restores []restoreReply `json:"restores"` // one per database, in the order restored
	Warnings []string       `json:"warnings"`
	Duration string         `json:"duration"`
}

// restoreSet restores the databases of a catalog set
// (POST /api/v1/backups/:id/restore, ?only=, ?wipe=true), each with
// restoreFromFile as an upload is, one after the other, after checking every
// file of the set so a damaged file changes no database. It needs the write
// scopes of every database it restores. A set that failed its verification,
// is incomplete or still running is refused.
func (s *Server) restoreSet(c echo.Context) error {
	info, err := s.lookupSet(c)
	if err != nil {
		return err
	}
	p, err := restoreParamsOf(c)
	if err != nil {
		return err
	}
	names, err := setRestoreNames(c, info)
	if err != nil {
		return err
	}
	if err := require(c, restoreScopes(names)...); err != nil {
		return err
	}
	if s.opts.NoOnlineRestore {
		return &apiError{status: http.StatusForbidden,
			msg: "online restore is disabled on this server (it was started with --no-online-restore)",
			hint: fmt.Sprintf("nothing was changed; restore offline: stop the server, then run "+
				"`flowg admin restore --backup-dir %s` (add --wipe for a destructive restore)", s.setLocation(info.ID))}
	}
	if info.Label != backup.LabelRestoreVerified && info.Label != backup.LabelCreated {
		return setUnusable(info, "restored")
	}
	warnings, err := s.guard(c, p, names)
	if err != nil {
		return err
	}
	for _, n := range names {
		end, err := s.beginRestore(n)
		if err != nil {
			return err
		}
		defer end()
	}
	// Retention and DELETE wait until the set is read.
	s.catalog.sets.RLock()
	defer s.catalog.sets.RUnlock()
	if info, err = s.catalog.cat.Get(info.ID); err != nil {
		return setNotFound(c.Param("id"))
	}
	start := time.Now()
	if len(names) > 1 {
		ctx, cancel := s.opContext(c.Request().Context())
		defer cancel()
		for _, n := range names {
			src, err := s.setSource(ctx, info, n)
			if err != nil {
				return err
			}
			_, _, err = checkSource(ctx, src, n)
			if src.cleanup != nil {
				src.cleanup()
			}
			if err != nil {
				return refusal(c, src, err)
			}
		}
	}
	reply := setRestoreReply{Set: info.ID, Mode: p.mode(), Restores: []restoreReply{}, Warnings: append([]string{}, warnings...)}
	for _, n := range names {
		r, err := s.restoreFromFile(c, n, p, func() (*restoreSource, error) { return s.setSource(c.Request().Context(), info, n) })
		if err != nil {
			return restoredSoFar(c, err, info.ID, reply.Restores)
		}
		reply.Restores = append(reply.Restores, r)
	}
	reply.Duration = time.Since(start).Round(time.Millisecond).String()
	return c.JSON(http.StatusOK, reply)
}

// setRestoreNames returns the databases of a set that ?only= names (all of
// them when absent); naming one the set lacks is a 400.
func setRestoreNames(c echo.Context, info backup.SetInfo) ([]kv.Name, error) {
	held := setKVNames(info)
	if c.QueryParam("only") == "" {
		if len(held) == 0 {
			return nil, setUnusable(info, "restored")
		}
		return held, nil
	}
	names, err := onlyParam(c)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := info.Databases[string(n)]; !ok {
			err := setLacks(info, n).(*apiError)
			err.status = http.StatusBadRequest
			err.hint = "nothing was changed; " + err.hint
			return nil, err
		}
	}
	return names, nil
}

// setSource opens database n as a set holds it: its file, or for an
// incremental set the state rebuilt from its chain (in UploadDir). A full
// set's file must have the SHA-256 its manifest records.
func (s *Server) setSource(ctx context.Context, info backup.SetInfo, n kv.Name) (*restoreSource, error) {
	entry := info.Databases[string(n)]
	open, cleanup, err := s.catalog.cat.Restorable(ctx, info.ID, string(n), s.opts.UploadDir)
	if err != nil {
		if backup.IsInputError(err) {
			return nil, &apiError{status: http.StatusBadRequest, cause: err,
				msg:  fmt.Sprintf("restore refused: backup set %s: %v", info.ID, err),
				hint: "nothing was changed; verify the set (POST /api/v1/backups/" + info.ID + "/verify) and restore another one from GET /api/v1/backups"}
		}
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, &apiError{status: http.StatusConflict, cause: err,
			msg:  fmt.Sprintf("backup set %s: the %s backup cannot be read: %v", info.ID, n, err),
			hint: "nothing was changed; list the sets with GET /api/v1/backups and pick another"}
	}
	want := entry.SHA256
	if entry.Encrypted {
		want = entry.PlainSHA256
	}
	if info.Parent != "" {
		want = "" // rebuilt from the chain, whose links were checked
	}
	return &restoreSource{open: open, fileName: filepath.Base(entry.File), size: entry.Bytes, sha256: want, set: info.ID, cleanup: cleanup}, nil
}

// restoredSoFar adds to the error of a set restore which databases were
// already restored, and their safety snapshots.
func restoredSoFar(c echo.Context, err error, id string, done []restoreReply) error {
	if len(done) == 0 {
		return err
	}
	status, body := describe(err, requestID(c))
	var parts []string
	for _, r := range done {
		part := r.Database
		if r.SafetySnapshot != "" {
			part += " (safety snapshot " + r.SafetySnapshot + ")"
		}
		parts = append(parts, part)
	}
	return &apiError{status: status, cause: err, msg: body.Error,
		hint: fmt.Sprintf("%s; already restored from set %s: %s", body.Hint, id, strings.Join(parts, ", "))}
}

// beginRestore marks a restore of n as running: a 409 if one already is.
func (s *Server) beginRestore(n kv.Name) (func(), error) {
	end, err := s.store.BeginRestore(n)
	if err != nil {
		if errors.Is(err, kv.ErrBusy) {
			return nil, busy(n, err)
		}
		return nil, err
	}
	return end, nil
}

// restoreSource is the backup file a restore reads: a staged upload or a
// database's file in a catalog set.
type restoreSource struct {
	open     backup.Opener
	fileName string // the multipart file name, or the set's file name
	size     int64  // bytes as stored
	uploaded int64  // bytes received from the client; 0 for a set
	sha256   string // what the file's SHA-256 must be (a set's manifest); "" for an upload
	set      string // the catalog set the file belongs to; "" for an upload
	cleanup  func()
}

// restoreFromFile restores database name from the file stage gives: the
// restore both routes share. The file is verified whole before anything is
// written; then a safety snapshot of the database goes into the backup
// catalog (unless ?no_safety_snapshot=true), and the file is merged into
// the database or, with wipe, loaded into a new one that replaces it while
// the database's gate is held exclusively (its requests get 503 meanwhile).
// The caller holds the database's restore (beginRestore).
func (s *Server) restoreFromFile(c echo.Context, name kv.Name, p restoreParams, stage func() (*restoreSource, error)) (restoreReply, error) {
	run := &restoreRun{s: s, c: c, name: name, p: p, user: principalOf(c).User,
		reply: restoreReply{Database: string(name), Mode: p.mode(), Warnings: []string{}}}
	s.metrics.restoreStarted(name, run.reply.Mode)
	start := time.Now()
	err := run.do(stage)
	run.reply.Duration = time.Since(start).Round(time.Millisecond).String()
	reason := ""
	if err != nil {
		reason = "error"
		if status, _ := describe(err, ""); status < 500 {
			reason = "input"
		}
	}
	s.metrics.restoreFinished(name, run.reply.Mode, time.Since(start), run.uploaded(), run.reply.Written, reason)
	if run.reply.SafetySnapshot != "" {
		s.refreshCatalogMetrics()
	}
	if err != nil {
		return run.reply, err
	}
	s.log.Info("restore complete", "request_id", requestID(c), "database", name, "mode", run.reply.Mode,
		"user", run.user, "set", run.setID(), "written", run.reply.Written, "file_sha256", run.reply.File.SHA256,
		"safety_snapshot", run.reply.SafetySnapshot, "set_aside", run.reply.SetAside)
	return run.reply, nil
}

// wipeParam parses ?wipe=.
func wipeParam(c echo.Context) (bool, error) {
	v := c.QueryParam("wipe")
	if v == "" {
		return false, nil
	}
	wipe, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(fmt.Sprintf("wipe=%q is not a boolean", v),
			"nothing was changed; use ?wipe=true for a destructive restore, or leave it out to merge")
	}
	return wipe, nil
}

// restoreParams are the query parameters of both restore routes.
type restoreParams struct {
	wipe            bool // wipe=true: afterwards the database holds exactly the file's keys
	noSnapshot      bool // no_safety_snapshot=true: no pre_restore set is written first
	discardPrevious bool // discard_previous=true (with wipe): the previous directory is deleted
	skipCheck       bool // skip_backup_check=true: allow the two above without a restore-verified set
}

func (p restoreParams) mode() string {
	if p.wipe {
		return modeWipe
	}
	return modeMerge
}

// restoreParamsOf parses wipe, no_safety_snapshot, discard_previous and
// skip_backup_check.
func restoreParamsOf(c echo.Context) (restoreParams, error) {
	var p restoreParams
	var err error
	if p.wipe, err = wipeParam(c); err != nil {
		return p, err
	}
	const hint = "use no_safety_snapshot=true, discard_previous=true or skip_backup_check=true, or leave them out"
	if p.noSnapshot, err = boolParam(c, "no_safety_snapshot", hint); err != nil {
		return p, err
	}
	if p.discardPrevious, err = boolParam(c, "discard_previous", hint); err != nil {
		return p, err
	}
	if p.skipCheck, err = boolParam(c, "skip_backup_check", hint); err != nil {
		return p, err
	}
	if p.discardPrevious && !p.wipe {
		return p, badRequest("discard_previous=true only applies with wipe=true",
			"nothing was changed; a merge keeps no previous directory: leave discard_previous out, or add wipe=true")
	}
	return p, nil
}

// givenUp says which safety copies p turns off, and whether any is left;
// "" when p keeps both.
func (p restoreParams) givenUp() (what string, undoable bool) {
	switch {
	case p.noSnapshot && p.discardPrevious:
		return "no safety snapshot is taken and the previous database directory is deleted", false
	case p.noSnapshot && p.wipe:
		return "no safety snapshot is taken (the previous database directory is still kept aside)", true
	case p.noSnapshot:
		return "no safety snapshot is taken before the merge", false
	case p.discardPrevious:
		return "the previous database directory is deleted, not kept aside (the safety snapshot still holds the database)", true
	}
	return "", true
}

// guard refuses a restore that turns a safety copy off (no_safety_snapshot,
// discard_previous) unless the catalog holds a restore-verified set of each
// of names; skip_backup_check=true lets it through. Either way it returns
// the warnings the answer carries, saying what is given up. Without those
// flags it does nothing.
func (s *Server) guard(c echo.Context, p restoreParams, names []kv.Name) ([]string, error) {
	what, undoable := p.givenUp()
	if what == "" {
		return nil, nil
	}
	if p.skipCheck {
		consequence := "this restore cannot be undone"
		if undoable {
			consequence = "the remaining safety copy is the only way back"
		}
		return []string{fmt.Sprintf("%s, and no restore-verified backup was required (skip_backup_check=true): %s", what, consequence)}, nil
	}
	for _, n := range names {
		ok, err := s.catalog.cat.HasVerified(string(n))
		if err != nil {
			return nil, s.catalogUnreadable(c, err)
		}
		if !ok {
			return nil, &apiError{status: http.StatusConflict, msg: fmt.Sprintf(
				"restore refused: %s, and the backup catalog holds no restore-verified set of the %s database to fall back on", what, n),
				hint: "nothing was changed; keep the safety copy (leave out no_safety_snapshot / discard_previous), " +
					"verify a set first (POST /api/v1/backups/ID/verify, or `flowg backups verify --latest`), " +
					"or add skip_backup_check=true to accept the risk"}
		}
	}
	return []string{fmt.Sprintf("%s; the catalog's newest restore-verified set of %s is the way back to an earlier state", what, joinKVNames(names))}, nil
}

func joinKVNames(names []kv.Name) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}

// restoreRun is one restore of one database in progress.
type restoreRun struct {
	s     *Server
	c     echo.Context
	name  kv.Name
	p     restoreParams
	user  string
	src   *restoreSource
	reply restoreReply
}

func (r *restoreRun) uploaded() int64 {
	if r.src == nil {
		return 0
	}
	return r.src.uploaded
}

func (r *restoreRun) setID() string {
	if r.src == nil {
		return ""
	}
	return r.src.set
}

// do stages the file and verifies it whole, then merges or wipes.
func (r *restoreRun) do(stage func() (*restoreSource, error)) error {
	src, err := stage()
	if err != nil {
		return err
	}
	if src.cleanup != nil {
		defer src.cleanup()
	}
	r.src = src

	ctx, cancel := r.s.opContext(r.c.Request().Context())
	defer cancel()
	hdr, sum, err := checkSource(ctx, src, r.name)
	if err != nil {
		return refusal(r.c, src, err)
	}
	r.reply.File = fileReply{Name: src.fileName, Format: string(backup.FormatFlowg), Bytes: src.size, Keys: sum.Keys, SHA256: sum.SHA256}
	if hdr.Raw {
		r.reply.File.Format = string(backup.FormatBadger)
	} else {
		created := hdr.Created
		r.reply.File.Created, r.reply.File.ReadTs = &created, hdr.ReadTs
	}
	if r.p.wipe {
		return r.wipeRestore(ctx)
	}
	// A client that goes away must not cut a merge short: once writing
	// begins it runs to the end unless the server stops.
	mctx, mcancel := r.s.opContext(context.WithoutCancel(r.c.Request().Context()))
	defer mcancel()
	return r.mergeRestore(mctx)
}

// checkSource reads the file of src whole, checking everything in it and,
// for a set's file, its SHA-256 against the manifest. It writes nothing.
func checkSource(ctx context.Context, src *restoreSource, n kv.Name) (backup.Header, backup.Summary, error) {
	f, size, err := src.open(ctx)
	if err != nil {
		return backup.Header{}, backup.Summary{}, err
	}
	defer f.Close()
	hdr, sum, err := backup.Verify(ctx, f, backup.VerifyOptions{ReadOptions: backup.ReadOptions{Database: string(n), Size: size}})
	if err == nil && src.sha256 != "" && sum.SHA256 != "" && sum.SHA256 != src.sha256 {
		err = fmt.Errorf("%w: %s: its SHA-256 differs from the one the set's manifest records", backup.ErrChecksum, src.fileName)
	}
	return hdr, sum, err
}

// refusal is the answer for a file that failed its checks.
func refusal(c echo.Context, src *restoreSource, err error) error {
	if backup.IsInputError(err) {
		hint := "nothing was changed; " + inputHint(err)
		if src != nil && src.set != "" {
			hint = fmt.Sprintf("nothing was changed; the set's file is damaged: verify the set (POST /api/v1/backups/%s/verify) "+
				"and restore another one from GET /api/v1/backups", src.set)
		}
		return &apiError{status: http.StatusBadRequest, cause: err, msg: "restore refused: " + err.Error(), hint: hint}
	}
	var ae *apiError
	if errors.As(err, &ae) || errors.Is(err, context.Canceled) {
		return err
	}
	return internal("the backup file could not be checked", "nothing was changed; see the server log for request "+requestID(c), err)
}

// restoreOptions are the options of Merge and BuildWipeFrom.
func (r *restoreRun) restoreOptions() backup.RestoreOptions {
	return backup.RestoreOptions{Database: string(r.name), TmpDir: r.s.opts.UploadDir}
}

// mergeRestore merges the verified file into the database.
func (r *restoreRun) mergeRestore(ctx context.Context) error {
	db, release, err := r.s.acquire(r.name)
	if err != nil {
		return err
	}
	defer release()
	if hook := r.s.opts.BeforeRestoreWrite; hook != nil {
		hook(r.name, false)
	}
	if err := r.safetySnapshot(ctx, db); err != nil {
		return err
	}
	r.reply.Undo = r.undo("")
	revived := revivedKeys{}
	opts := r.restoreOptions()
	opts.Added = func(key []byte) {
		if r.name == kv.Auth {
			revived.add(key)
		}
	}
	res, err := backup.Merge(ctx, db, r.src.open, opts)
	r.reply.Written, r.reply.ExpiredSkipped, r.reply.Added = res.Written, res.Expired, &res.Added
	r.reply.Warnings = append(r.reply.Warnings, res.Warnings...)
	r.reply.Warnings = append(r.reply.Warnings, revived.warnings()...)
	if err != nil {
		if res.Written == 0 {
			return refusal(r.c, r.src, err)
		}
		return internal(fmt.Sprintf("the merge stopped after %d keys", res.Written),
			fmt.Sprintf("the %s database may hold part of the backup; %s", r.name, r.reply.Undo), err)
	}
	return nil
}

// wipeRestore replaces the database by the verified file while holding it
// exclusively: safety snapshot, bulk load into a staging directory next to
// the database, crash-safe swap, reopen. With discard_previous the previous
// database directory is deleted once the new one is in place.
func (r *restoreRun) wipeRestore(ctx context.Context) error {
	phase := "wait"
	var res backup.Result
	aside, err := r.s.store.Exclusive(ctx, r.name, func(db *badger.DB) (string, error) {
		phase = "snapshot"
		if hook := r.s.opts.BeforeRestoreWrite; hook != nil {
			hook(r.name, true)
		}
		if err := r.safetySnapshot(ctx, db); err != nil {
			return "", err
		}
		phase = "build"
		staged := kv.SiblingName(r.s.store.Dirs().Of(r.name), "restore-staging", time.Now())
		var err error
		if res, err = backup.BuildWipeFrom(ctx, staged, r.src.open, r.restoreOptions()); err != nil {
			return "", err
		}
		phase = "swap"
		return staged, nil
	})
	r.reply.Written, r.reply.ExpiredSkipped, r.reply.SetAside = res.Written, res.Expired, aside
	r.reply.Warnings = append(r.reply.Warnings, res.Warnings...)
	if err == nil && aside != "" && r.p.discardPrevious {
		if rerr := os.RemoveAll(aside); rerr != nil {
			r.reply.Warnings = append(r.reply.Warnings, fmt.Sprintf("discard_previous=true: the previous database directory %s could not be deleted: %v", aside, rerr))
			r.s.log.Warn("discard previous database directory", "request_id", requestID(r.c), "dir", aside, "error", rerr)
		} else {
			r.reply.Warnings = append(r.reply.Warnings, "the previous database directory was deleted (discard_previous=true)")
			r.reply.SetAside, aside = "", ""
		}
	}
	r.reply.Undo = r.undo(aside)
	switch {
	case err == nil:
		return nil
	case phase == "wait" || phase == "snapshot":
		return err
	case phase == "build":
		if backup.IsInputError(err) || errors.Is(err, context.Canceled) {
			return refusal(r.c, r.src, err)
		}
		return internal("the restored database could not be built",
			fmt.Sprintf("nothing was changed: the %s database was not swapped; see the server log for request %s", r.name, requestID(r.c)), err)
	}
	hint := fmt.Sprintf("the restored %s database was built but not swapped in cleanly; see the server log for request %s", r.name, requestID(r.c))
	if aside != "" {
		hint += "; the previous database directory is at " + aside
	}
	return internal("the restored database could not be swapped in", hint+"; "+r.reply.Undo, err)
}

// safetySnapshot writes db, as it is now, to a backup set with trigger
// pre_restore in the backup catalog, and records it in the reply; with
// no_safety_snapshot it writes nothing.
func (r *restoreRun) safetySnapshot(ctx context.Context, db *badger.DB) error {
	if r.p.noSnapshot {
		return nil
	}
	m, err := r.s.catalog.cat.Create(ctx, []backup.Source{{Name: string(r.name), DB: db}}, backup.SetOptions{
		Trigger:      backup.TriggerPreRestore,
		By:           r.user,
		WriteOptions: backup.WriteOptions{ToolVersion: r.s.opts.Version},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return internal("the safety snapshot could not be written, so the restore did not start", fmt.Sprintf(
			"nothing was changed; free space in the backup catalog %s or fix its permissions (flowg serve --backup-dir)", r.s.catalog.cat.Dir()), err)
	}
	r.reply.SafetySnapshot, r.reply.SafetySnapshotDir = m.ID, r.s.setLocation(m.ID)
	return nil
}

// undo says how to undo the restore: restore the safety snapshot, or put
// back the previous database directory aside.
func (r *restoreRun) undo(aside string) string {
	var ways []string
	if id := r.reply.SafetySnapshot; id != "" {
		dir := r.reply.SafetySnapshotDir
		ways = append(ways, fmt.Sprintf("the safety snapshot %s (on the server) holds the %s database as it was: "+
			"restore it with POST /api/v1/backups/%s/restore?wipe=true (`flowg backups restore --wipe %s`), "+
			"upload %s to POST /api/v1/restore/%s?wipe=true, or stop the server and run "+
			"`flowg admin restore --backup-dir %s --only %s --wipe`",
			id, r.name, id, id, filepath.Join(dir, backup.FileName(string(r.name))), r.name, dir, r.name))
	}
	if aside != "" {
		ways = append(ways, fmt.Sprintf("the previous database directory is kept on the server at %s", aside))
	}
	if len(ways) == 0 {
		return "no safety copy was kept (no_safety_snapshot / discard_previous): restore an earlier restore-verified set from GET /api/v1/backups to go back"
	}
	return strings.Join(ways, "; ")
}

// revivedKeys collects the users and tokens a merge of auth brought back:
// keys the database no longer held, because they were deleted or revoked
// after the backup was taken.
type revivedKeys map[string][]string

func (rk revivedKeys) add(key []byte) {
	if kind, name, ok := auth.DescribeKey(key); ok {
		rk[kind] = append(rk[kind], name)
	}
}

// warnings says what was brought back, one warning per kind.
func (rk revivedKeys) warnings() []string {
	kinds := make([]string, 0, len(rk))
	for kind := range rk {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	out := make([]string, 0, len(kinds))
	for _, kind := range kinds {
		names := strings.Join(rk[kind], ", ")
		switch kind {
		case "user":
			out = append(out, fmt.Sprintf("the restore brought back %d user(s) the database did not hold "+
				"(deleted since the backup?): %s; delete them again if that was intended", len(rk[kind]), names))
		case "token":
			out = append(out, fmt.Sprintf("the restore brought back %d token(s) the database did not hold: %s; "+
				"tokens revoked since the backup stay revoked, revoke any other you do not want (DELETE /api/v1/tokens/:id)", len(rk[kind]), names))
		}
	}
	return out
}
