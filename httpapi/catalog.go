package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/quota"
	"github.com/flowg-backup/flowg/kv"
)

// catalogState is the server's backup catalog (Options.BackupDir): the sets
// of scheduled and manual backups and the pre_restore safety snapshots. The
// catalog holds its own set lock (backup.Catalog.HoldSets): a restore reading
// a set holds it shared; DELETE and retention delete under it.
type catalogState struct {
	cat       *backup.Catalog
	retention backup.Retention
	// creates limits the sets each user creates through POST /api/v1/backups.
	creates *quota.Limiter
	// verifies limits the sets each user verifies through
	// POST /api/v1/backups/:id/verify, at the rate of creates, apart.
	verifies *quota.Limiter
	// verifySlots holds one token per verification running for a request
	// (a verify, or a create with ?verify=true); its capacity is
	// Options.MaxConcurrentVerifies.
	verifySlots chan struct{}
}

// openCatalog sets up the catalog of s and sets the backup timestamps of
// the metrics from the sets it already holds.
func (s *Server) openCatalog() {
	cat := s.opts.Catalog
	if cat == nil {
		cat = backup.OpenCatalog(s.opts.BackupDir)
	}
	slots := s.opts.MaxConcurrentVerifies
	if slots <= 0 {
		slots = DefaultMaxConcurrentVerifies
	}
	s.catalog = &catalogState{cat: cat, retention: s.opts.Retention, creates: quota.NewLimiter(s.opts.BackupCreateRate),
		verifies: quota.NewLimiter(s.opts.BackupCreateRate), verifySlots: make(chan struct{}, slots)}
	s.refreshCatalogMetrics()
}

// BackupRun says what RunBackup backs up.
type BackupRun struct {
	// Names are the databases to back up; every database when empty.
	Names []kv.Name
	// Verify verifies the set right after it is written (a load of every
	// file into a scratch database), recording the result in its manifest.
	Verify bool
	// Trigger is backup.TriggerManual or backup.TriggerScheduled.
	Trigger string
	// By says who asked for the set: a user name, or "scheduler".
	By string
	// Incremental builds the set on the newest complete one (see
	// backup.SetOptions.Incremental); MaxChain bounds a chain's length,
	// Options.MaxChain when 0 or less.
	Incremental bool
	MaxChain    int
}

// BackupResult is what RunBackup did.
type BackupResult struct {
	// Set is the new set as the catalog lists it; after a failed run, its
	// id and the label "failed".
	Set backup.SetInfo
	// Pruned are the sets retention deleted after the run, with the reason.
	Pruned []backup.Decision
	// Warnings say what went wrong after the set was written (pruning).
	Warnings []string
	Duration time.Duration
}

// RunBackup writes a backup set of the server's databases into the catalog
// while the server keeps serving, verifies it when run.Verify is set, then
// applies Options.Retention and updates the backup metrics. Scheduled runs
// and POST /api/v1/backups both call it. A failed verification is no error:
// the set is returned labelled "verify failed". A failed run leaves no data
// file, only a manifest with status failed, and every older set as it was.
// It stops early with ctx.Err() if ctx ends or the server stops. It is safe
// for concurrent use.
func (s *Server) RunBackup(ctx context.Context, run BackupRun) (BackupResult, error) {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if run.Trigger == "" {
		run.Trigger = backup.TriggerManual
	}
	if run.MaxChain <= 0 {
		run.MaxChain = s.opts.MaxChain
	}
	start := time.Now()
	op, finishOp := s.backupOperation(ctx, run)
	r := backup.Routine{
		Catalog:   s.catalog.cat,
		Store:     s.store,
		Names:     run.Names,
		Verify:    run.Verify,
		Retention: s.catalog.retention,
		Options: backup.SetOptions{Trigger: run.Trigger, By: run.By, WriteOptions: backup.WriteOptions{ToolVersion: s.opts.Version, ExcludeStreams: s.opts.BackupExcludeStreams,
			Progress: func(db string, _, bytes uint64) { op.SetPartDone(db, bytes) }},
			Incremental: run.Incremental, MaxChain: run.MaxChain},
	}
	ran, err := r.Run(ctx)
	info := ran.Set
	op.SetSet(info.ID)
	defer finishOp(info, err)
	res := BackupResult{Set: info, Pruned: ran.Pruned}
	if ran.PruneErr != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the set was written, but retention could not prune older sets: %v", ran.PruneErr))
		s.log.Error("prune backup catalog", "dir", s.catalog.cat.Dir(), "error", ran.PruneErr)
	}
	for _, d := range res.Pruned {
		if d.Journal != "" {
			s.log.Info("journal chain pruned", "id", d.ID, "database", d.Journal, "reason", d.Reason, "after", info.ID)
			continue
		}
		s.log.Info("backup set pruned", "id", d.ID, "reason", d.Reason, "after", info.ID)
	}
	res.Duration = time.Since(start)
	s.refreshCatalogMetrics()
	result := "ok"
	switch {
	case err != nil:
		result = "failed"
	case info.Label == backup.LabelVerifyFailed:
		result = "verify_failed"
	}
	s.metrics.catalogRun(run.Trigger, result)
	attrs := []any{"id", info.ID, "trigger", run.Trigger, "by", run.By, "databases", setNames(info),
		"label", info.Label, "duration", res.Duration.Round(time.Millisecond), "pruned", prunedIDs(res.Pruned)}
	if run.Incremental {
		attrs = append(attrs, "parent", info.Parent)
	}
	if info.FullReason != "" {
		attrs = append(attrs, "full_reason", info.FullReason)
	}
	switch {
	case err != nil:
		s.log.Error("backup set failed", append(attrs, "error", err)...)
	case info.Label == backup.LabelVerifyFailed:
		s.log.Error("backup set written, but its verification failed", append(attrs, "problem", info.Problem)...)
	default:
		s.log.Info("backup set written", attrs...)
	}
	return res, err
}

// prunedIDs returns the ids of the pruned sets.
func prunedIDs(ds []backup.Decision) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

// refreshCatalogMetrics sets the last-success and last-verified timestamps
// of every database from the catalog: the creation time of the newest
// complete (created or restore-verified) set holding it, and of the newest
// restore-verified one. A catalog that cannot be read leaves them as they
// were.
func (s *Server) refreshCatalogMetrics() {
	sets, err := s.catalog.cat.List(s.base) // ends with the server
	if err != nil {
		s.log.Warn("read backup catalog for the metrics", "dir", s.catalog.cat.Dir(), "error", err)
		return
	}
	complete, verified := map[string]time.Time{}, map[string]time.Time{}
	for _, set := range sets {
		if set.Label != backup.LabelCreated && set.Label != backup.LabelRestoreVerified {
			continue
		}
		for db := range set.Databases {
			if set.Created.After(complete[db]) {
				complete[db] = set.Created
			}
			if set.Label == backup.LabelRestoreVerified && set.Created.After(verified[db]) {
				verified[db] = set.Created
			}
		}
	}
	s.metrics.catalogTimes(complete, verified)
}

// listReply is the answer of GET /api/v1/backups.
type listReply struct {
	// Catalog is the server's backup directory.
	Catalog string           `json:"catalog"`
	Backups []backup.SetInfo `json:"backups"`
	// Journal is each database's restorable window in the journal
	// (continuous backup), with its gaps; empty without a journal.
	Journal []backup.JournalSpan `json:"journal"`
}

// createReply is the answer of POST /api/v1/backups: the set as listed,
// and what retention pruned after it (ids; pruned_reasons says why each).
// The set's full_reason is there only when ?incremental=true gave a full
// set (its "parent" is absent): it says why.
type createReply struct {
	backup.SetInfo
	Pruned        []string          `json:"pruned"`
	PrunedReasons []backup.Decision `json:"pruned_reasons"`
	Warnings      []string          `json:"warnings"`
	Duration      string            `json:"duration"`
}

// listSets lists the sets of the catalog, newest first, with their labels
// (GET /api/v1/backups). It needs the backup scopes of at least one
// database; the list holds manifests only, never data.
func (s *Server) listSets(c echo.Context) error {
	if err := requireAnyBackupScopes(c); err != nil {
		return err
	}
	sets, spans, err := s.catalog.cat.ListWithJournal(c.Request().Context())
	if err != nil {
		return s.catalogUnreadable(c, err)
	}
	if sets == nil {
		sets = []backup.SetInfo{}
	}
	if spans == nil {
		spans = []backup.JournalSpan{}
	}
	return c.JSON(http.StatusOK, listReply{Catalog: s.catalog.cat.Dir(), Backups: sets, Journal: spans})
}

// getSet answers one set as listed (GET /api/v1/backups/:id); scopes as
// for the list.
func (s *Server) getSet(c echo.Context) error {
	if err := requireAnyBackupScopes(c); err != nil {
		return err
	}
	info, err := s.lookupSet(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

// createSet writes a set now (POST /api/v1/backups?only=logs,config
// &verify=true&incremental=true), then applies retention. An incremental
// set is capped as scheduled ones are: once the newest chain holds
// Options.MaxChain sets, the set is full and the answer's full_reason says
// so. It needs the backup scopes of every database it backs up. With
// ?verify=true it takes one of the server's --max-concurrent-verifies
// slots, or answers 429 before writing anything. The run goes on if the
// client goes away.
func (s *Server) createSet(c echo.Context) error {
	names, err := onlyParam(c)
	if err != nil {
		return err
	}
	verify, err := boolParam(c, "verify", "?verify=true verifies the new set at once")
	if err != nil {
		return err
	}
	incremental, err := boolParam(c, "incremental", "?incremental=true takes only what changed since the newest complete set")
	if err != nil {
		return err
	}
	if err := require(c, backupScopes(names)...); err != nil {
		return err
	}
	if verify {
		release, err := s.takeVerifySlot()
		if err != nil {
			return err
		}
		defer release()
	}
	if err := s.allowCreate(c); err != nil {
		return err
	}
	res, err := s.RunBackup(context.WithoutCancel(c.Request().Context()),
		BackupRun{Names: names, Verify: verify, Trigger: backup.TriggerManual, By: principalOf(c).User, Incremental: incremental})
	if err != nil {
		return s.backupRunError(c, res, err)
	}
	reply := createReply{SetInfo: res.Set, Pruned: prunedIDs(res.Pruned), PrunedReasons: res.Pruned, Warnings: res.Warnings,
		Duration: res.Duration.Round(time.Millisecond).String()}
	if reply.PrunedReasons == nil {
		reply.PrunedReasons = []backup.Decision{}
	}
	if reply.Warnings == nil {
		reply.Warnings = []string{}
	}
	return c.JSON(http.StatusCreated, reply)
}

// allowCreate takes one set of the caller's --backup-create-rate, or
// answers 429 with Retry-After saying when the next set is allowed.
func (s *Server) allowCreate(c echo.Context) error {
	return s.takeQuota(c, s.catalog.creates, func(user string) (string, string) {
		return fmt.Sprintf("backup set not created: user %s may create %d sets per %s (the server's --backup-create-rate)",
				user, s.opts.BackupCreateRate.Count, s.opts.BackupCreateRate.Per),
			"nothing was written; retry in %d seconds (at %s), or ask an administrator for a scheduled backup (--backup-schedule)"
	})
}

// takeQuota takes one unit of the caller's budget in q, or answers 429 with
// Retry-After; refusal gives the message and a hint that formats the
// seconds to wait and the time to retry at.
func (s *Server) takeQuota(c echo.Context, q *quota.Limiter, refusal func(user string) (msg, hintFormat string)) error {
	user := principalOf(c).User
	now := time.Now()
	ok, wait := q.Allow(user, now)
	if ok {
		return nil
	}
	secs := quota.RetryAfterSeconds(wait)
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
	at := now.Add(time.Duration(secs) * time.Second).UTC().Format(time.RFC3339)
	msg, hint := refusal(user)
	return &apiError{status: http.StatusTooManyRequests, code: CodeRateLimited, msg: msg, hint: fmt.Sprintf(hint, secs, at)}
}

// downloadSetFile sends the file of one database of a set
// (GET /api/v1/backups/:id/{auth,config,logs}), as it lies in the catalog:
// Range requests work, and the headers carry the manifest's SHA-256 and
// key count so the client can check what it received.
func (s *Server) downloadSetFile(c echo.Context) error {
	info, name, err := s.setFileOf(c, "a set's files are /api/v1/backups/ID/auth, /api/v1/backups/ID/config and /api/v1/backups/ID/logs")
	if err != nil {
		return err
	}
	return s.sendSetFile(c, info, name)
}

// setFileOf parses the :db of a request about one database's file of set
// :id, requires the caller to hold that database's backup scopes, and
// looks the set up; hint names the paths that exist, for a :db that names
// no database.
func (s *Server) setFileOf(c echo.Context, hint string) (backup.SetInfo, kv.Name, error) {
	name, err := kv.ParseName(c.Param("db"))
	if err != nil {
		return backup.SetInfo{}, "", &apiError{status: http.StatusNotFound, msg: err.Error(), hint: hint}
	}
	if err := require(c, auth.BackupScopes(string(name))...); err != nil {
		return backup.SetInfo{}, "", err
	}
	info, err := s.lookupSet(c)
	if err != nil {
		return backup.SetInfo{}, "", err
	}
	return info, name, nil
}

// downloadable fails unless set info holds a file of name that can be
// downloaded now.
func downloadable(info backup.SetInfo, name kv.Name) error {
	if _, ok := info.Databases[string(name)]; !ok {
		return setLacks(info, name)
	}
	if info.Label == backup.LabelIncomplete || info.Label == backup.LabelRunning {
		return setUnusable(info, "downloaded")
	}
	return nil
}

// sendSetFile sends the file of database name of set info, as it lies in
// the catalog (see downloadSetFile); the caller checked the scopes.
func (s *Server) sendSetFile(c echo.Context, info backup.SetInfo, name kv.Name) error {
	if err := downloadable(info, name); err != nil {
		return err
	}
	entry := info.Databases[string(name)]
	f, size, err := s.catalog.cat.OpenStored(c.Request().Context(), info.ID, string(name))
	if err != nil {
		if errors.Is(err, backup.ErrSetNotFound) || errors.Is(err, backup.ErrMissingFile) {
			return setNotFound(info.ID)
		}
		if errors.Is(err, backup.ErrNotRegularFile) {
			return internal(fmt.Sprintf("the %s file of set %s is not served: %v", name, info.ID, backup.ErrNotRegularFile),
				"someone with access to the server's --backup-dir changed this set; nothing was sent. Check the set's directory, and see the server log for request "+requestID(c), err)
		}
		return internal("the backup file could not be opened", "see the server log for request "+requestID(c), err)
	}
	defer f.Close()
	file := filepath.Base(entry.File)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEOctetStream)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", file))
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(trailerSHA256, entry.SHA256)
	h.Set(trailerKeys, strconv.FormatUint(entry.Keys, 10))
	h.Set("X-Flowg-Set-Label", info.Label)
	if local, ok := f.(*os.File); ok {
		// On disk: Range requests and HEAD work.
		st, err := local.Stat()
		if err != nil {
			return internal("the backup file could not be opened", "see the server log for request "+requestID(c), err)
		}
		return serveFile(c, file, st.ModTime(), local)
	}
	h.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	if n, err := io.Copy(c.Response(), f); err != nil {
		return &abortError{cause: fmt.Errorf("send %s of set %s (%d of %d bytes sent): %w", entry.File, info.ID, n, size, err)}
	}
	return nil
}

// deleteSet deletes a set, files and manifest together
// (DELETE /api/v1/backups/:id). It needs the write scopes of every database
// of the set; a set that lists none (a failed run) needs those of all three.
func (s *Server) deleteSet(c echo.Context) error {
	info, err := s.lookupSet(c)
	if err != nil {
		return err
	}
	names := setKVNames(info)
	if len(names) == 0 {
		names = kv.Names
	}
	if err := require(c, restoreScopes(names)...); err != nil {
		return err
	}
	if info.Label == backup.LabelRunning {
		return setUnusable(info, "deleted")
	}
	err = s.catalog.cat.Delete(c.Request().Context(), info.ID)
	s.refreshCatalogMetrics()
	switch {
	case errors.Is(err, backup.ErrSetNotFound):
		return setNotFound(info.ID)
	case errors.Is(err, backup.ErrCatalogBusy):
		return catalogBusy(err)
	case errors.Is(err, backup.ErrInChain):
		return &apiError{status: http.StatusConflict, cause: err, msg: "backup set not deleted: " + err.Error(),
			hint: "nothing was deleted; an incremental set builds on it: delete the sets built on it first"}
	case err != nil:
		return internal("the set could not be deleted", fmt.Sprintf(
			"check the permissions of the backup catalog %s; see the server log for request %s", s.catalog.cat.Dir(), requestID(c)), err)
	}
	s.log.Info("backup set deleted", "request_id", requestID(c), "id", info.ID, "user", principalOf(c).User)
	return c.JSON(http.StatusOK, map[string]string{"deleted": info.ID})
}

// lookupSet returns the set named by the :id path parameter. Anything but
// the shape of a set id is a 404, so no path outside the catalog can be named.
func (s *Server) lookupSet(c echo.Context) (backup.SetInfo, error) {
	id := c.Param("id")
	if !backup.ValidSetID(id) {
		return backup.SetInfo{}, setNotFound(id)
	}
	info, err := s.catalog.cat.Get(c.Request().Context(), id)
	if err != nil {
		return info, setNotFound(id)
	}
	return info, nil
}

// catalogBusy is the 503 while another process (an offline prune) holds
// the catalog's set lock.
func catalogBusy(err error) error {
	return &apiError{status: http.StatusServiceUnavailable, code: CodeCatalogBusy, cause: err, msg: err.Error(),
		hint: "nothing was changed; another process (flowg admin backups prune?) holds the backup catalog: retry in a few seconds"}
}

// setNotFound is the 404 of an id that names no set.
func setNotFound(id string) error {
	shown := id
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("backup set %q not found", shown),
		hint: "set ids look like 20260102T030405Z-a1b2c3; list the sets with GET /api/v1/backups"}
}

// setLacks is the 404 for a database a set does not hold.
func setLacks(info backup.SetInfo, n kv.Name) error {
	held := "no database"
	if names := setNames(info); len(names) > 0 {
		held = strings.Join(names, ", ")
	}
	return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("backup set %s holds no %s backup", info.ID, n),
		hint: fmt.Sprintf("it holds %s; list the sets with GET /api/v1/backups", held)}
}

// setUnusable is the 409 for a set whose state does not allow what was asked.
func setUnusable(info backup.SetInfo, what string) error {
	msg := fmt.Sprintf("backup set %s cannot be %s: it is %s", info.ID, what, info.Label)
	if info.Problem != "" {
		msg += " (" + info.Problem + ")"
	}
	hint := "nothing was changed; pick another set from GET /api/v1/backups"
	if info.Label == backup.LabelRunning {
		hint = "nothing was changed; the set is still being written: retry when it is done"
	}
	return &apiError{status: http.StatusConflict, msg: msg, hint: hint}
}

// catalogUnreadable is the 500 for a catalog directory that cannot be read,
// and the 503 for one another process holds (backup.ErrCatalogBusy).
func (s *Server) catalogUnreadable(c echo.Context, err error) error {
	if errors.Is(err, backup.ErrCatalogBusy) {
		return catalogBusy(err)
	}
	return internal("the backup catalog could not be read", fmt.Sprintf(
		"check that the backup catalog %s (flowg serve --backup-dir) is a directory the server can read; see the server log for request %s",
		s.catalog.cat.Dir(), requestID(c)), err)
}

// backupRunError explains a backup run that wrote no set: 503 while a
// database is being reloaded, 507 for a full disk, otherwise 500. Older
// sets are never touched by a failed run.
func (s *Server) backupRunError(c echo.Context, res BackupResult, err error) error {
	dir := s.catalog.cat.Dir()
	if errors.Is(err, kv.ErrUnavailable) {
		return &apiError{status: http.StatusServiceUnavailable, cause: err,
			msg:  "the backup did not start: " + err.Error(),
			hint: "nothing was written; a restore is reloading that database: retry in a few seconds"}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	safe := "every older set is unchanged"
	if res.Set.ID != "" {
		if info, gerr := s.catalog.cat.Get(c.Request().Context(), res.Set.ID); gerr == nil && info.Label == backup.LabelFailed {
			safe += fmt.Sprintf("; the failed run is listed as set %s (failed), and no data file of it was kept", info.ID)
		}
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &apiError{status: http.StatusInsufficientStorage, cause: err,
			msg: "the backup set could not be written: the backup catalog is full: " + err.Error(),
			hint: fmt.Sprintf("free space in %s (delete old sets with DELETE /api/v1/backups/ID, or lower --backup-keep), then retry; %s",
				dir, safe)}
	}
	return &apiError{status: http.StatusInternalServerError, cause: err,
		msg: "the backup set could not be written: " + err.Error(),
		hint: fmt.Sprintf("check that the backup catalog %s (flowg serve --backup-dir) is a writable directory with free space, then retry; "+
			"%s; see the server log for request %s", dir, safe, requestID(c))}
}

// onlyParam parses ?only=logs,config; every database when absent.
func onlyParam(c echo.Context) ([]kv.Name, error) {
	names, err := kv.ParseNames(c.QueryParam("only"))
	if err != nil {
		return nil, badRequest("only: "+err.Error(), "nothing was changed; name databases as ?only=auth,config,logs, or leave it out for all")
	}
	return names, nil
}

// boolParam parses a boolean query parameter; false when absent.
func boolParam(c echo.Context, name, hint string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(fmt.Sprintf("%s=%q is not a boolean", name, truncateParam(v)), "nothing was changed; "+hint)
	}
	return b, nil
}

func truncateParam(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// requireAnyBackupScopes lets through a caller holding the backup scopes of
// at least one database: what the list and the manifests need. Neither
// holds data, only names, sizes, hashes and labels.
func requireAnyBackupScopes(c echo.Context) error {
	p := principalOf(c)
	for _, n := range kv.Names {
		if p.Require(auth.BackupScopes(string(n))...) == nil {
			return nil
		}
	}
	return &apiError{status: http.StatusForbidden, cause: auth.ErrForbidden,
		msg: "missing scopes: listing backup sets needs the backup scopes of at least one database " +
			"(read_acls; or read_pipelines, read_transformers and read_alerts; or read_streams)",
		hint: "use a token with read_streams (logs), read_acls (auth), or read_pipelines, read_transformers and read_alerts (config)"}
}

// backupScopes are the scopes needed to back up every database of names.
func backupScopes(names []kv.Name) []auth.Scope {
	var out []auth.Scope
	for _, n := range names {
		out = append(out, auth.BackupScopes(string(n))...)
	}
	return out
}

// restoreScopes are the scopes needed to restore or delete every database
// of names.
func restoreScopes(names []kv.Name) []auth.Scope {
	var out []auth.Scope
	for _, n := range names {
		out = append(out, auth.RestoreScopes(string(n))...)
	}
	return out
}

// setKVNames returns the databases of a set in canonical order.
func setKVNames(info backup.SetInfo) []kv.Name {
	var out []kv.Name
	for _, n := range kv.Names {
		if _, ok := info.Databases[string(n)]; ok {
			out = append(out, n)
		}
	}
	return out
}

// setNames returns the databases of a set in canonical order, as strings.
func setNames(info backup.SetInfo) []string {
	names := setKVNames(info)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return out
}

// setLocation is where set id lies: its directory, or its URL for a
// catalog that is not on this disk.
func (s *Server) setLocation(id string) string {
	dir := s.catalog.cat.Dir()
	if strings.Contains(dir, "://") {
		return strings.TrimRight(dir, "/") + "/" + id
	}
	return filepath.Join(dir, id)
}
