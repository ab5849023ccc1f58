package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/internal/quota"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/operations"
)

// DefaultBackupDir is the catalog of pre-restore safety snapshots when
// Options.BackupDir is empty.
const DefaultBackupDir = "./backups"

// DefaultMaxRestoreBytes is flowg serve's default --max-restore-size: the
// largest logical size an online restore writes. Larger databases are
// restored offline (flowg admin restore has no default limit) or with a
// larger --max-restore-size.
const DefaultMaxRestoreBytes = 64 << 30

// DefaultMaxChain is how many sets an incremental chain holds at most when
// Options.MaxChain is not set: the default of flowg serve
// --backup-full-every and flowg admin backups create --full-every.
const DefaultMaxChain = 7

// DefaultBackupCreateRate is flowg serve's --backup-create-rate: each user
// may create 6 sets an hour with POST /api/v1/backups (any read scope may).
const DefaultBackupCreateRate = "6/h"

// Options tune a Server. The zero value serves with the defaults named on
// each field.
type Options struct {
	// BackupDir is the backup catalog: before a restore changes a database,
	// a backup set of it (trigger pre_restore) is written to
	// BackupDir/<id>/; RunBackup and POST /api/v1/backups write their sets
	// there too. DefaultBackupDir when empty.
	BackupDir string
	// Catalog, when set, is the backup catalog instead of
	// backup.OpenCatalog(BackupDir): one opened with backup.OpenTarget (an
	// s3:// catalog) or given keys (Catalog.WithKeys). BackupDir should
	// then name where it is, as Catalog.Dir does.
	Catalog *backup.Catalog
	// Retention is applied to the catalog after every set RunBackup writes;
	// the zero value keeps every set.
	Retention backup.Retention
	// BackupCreateRate limits the sets each user creates with
	// POST /api/v1/backups (429 with Retry-After beyond it); the zero value
	// sets no limit.
	BackupCreateRate quota.Rate
	// MaxConcurrentVerifies bounds the verifications asked for over the API
	// (POST /api/v1/backups/:id/verify, POST /api/v1/backups?verify=true)
	// that run at once on the server; more get 429 too_many_verifies with
	// Retry-After. Each user's verifications also follow BackupCreateRate,
	// counted apart from their sets. DefaultMaxConcurrentVerifies when 0 or
	// less.
	MaxConcurrentVerifies int
	// MaxChain is how many sets an incremental chain may hold (flowg serve
	// --backup-full-every): an incremental set asked for with RunBackup or
	// POST /api/v1/backups?incremental=true when the newest chain already
	// holds this many is a full set, starting a new chain. DefaultMaxChain
	// when 0 or less; a chain never grows without bound.
	MaxChain int
	// NoOnlineRestore turns every POST /api/v1/restore/... into a 403 that
	// says so; backups keep working.
	NoOnlineRestore bool
	// OperationsKeep is how many records the history of operations
	// (GET /api/v1/operations) keeps in the catalog; older ones are deleted
	// as new ones are written. operations.DefaultKeep when 0 or less.
	OperationsKeep int
	// DownloadLinkTTL is how long a link of POST /api/v1/backups/:id/:db/link
	// works (flowg serve --download-link-ttl); DefaultDownloadLinkTTL when
	// 0 or less.
	DownloadLinkTTL time.Duration
	// MaxDownloadLinks bounds the links made and not yet used nor expired
	// (flowg serve --max-download-links); more get 429.
	// DefaultMaxDownloadLinks when 0 or less.
	MaxDownloadLinks int
	// MaxDownloadLinksPerUser bounds those of one user (flowg serve
	// --max-download-links-per-user), so that one user cannot hold every
	// link; DefaultMaxDownloadLinksPerUser when 0 or less.
	MaxDownloadLinksPerUser int
	// Logger gets one line per request and every server-side failure; it
	// never gets an Authorization header, a token or a password.
	// slog.Default() when nil.
	Logger *slog.Logger
	// Version is written into backup headers and safety snapshots.
	Version string
	// BackupExcludeStreams are the stream globs left out of the sets the
	// server takes (scheduled and POST /api/v1/backups): the operator's
	// configuration (flowg serve --backup-exclude-stream), never a
	// parameter of the API.
	BackupExcludeStreams []string
	// RestoreDir is where a restore whose form field "backup" holds a file
	// name rather than a file finds that file, on this server: the FlowG
	// page's own call, curl --form backup=auth.db (without @), which sends
	// the name. Only a bare name of a regular file directly in RestoreDir is
	// taken; the file is then checked like an upload. Empty: such a call is
	// refused with a 400 that says to add the @.
	RestoreDir string
	// UploadDir holds restore uploads while they are checked, and the
	// converted copy of a raw Badger stream; it needs as much free space as
	// the largest upload. os.TempDir() when empty.
	UploadDir string
	// MaxUploadBytes caps a restore upload; larger ones get 413 and change
	// nothing. 0 means no cap.
	MaxUploadBytes int64
	// ImportMaxLineBytes bounds a line of POST /api/v1/import/DB; a longer
	// one is refused with 400. 0 means export.DefaultMaxLineBytes.
	ImportMaxLineBytes int
	// MaxRestoreBytes caps the logical size (keys plus values) of what a
	// restore writes, which a compressed upload under MaxUploadBytes can
	// make a thousand times larger: larger ones get 413 and change
	// nothing (see backup.SizeGuard). 0 means no cap; flowg serve passes
	// DefaultMaxRestoreBytes unless told otherwise.
	MaxRestoreBytes uint64
	// MaxSafetyCopies is how many safety copies of earlier restores (their
	// pre_restore sets and set-aside directories) a database may have: a
	// restore that would keep one more gets 507 and the list of them, and
	// changes nothing. 0 means no limit; flowg serve passes
	// backup.DefaultMaxSafetyCopies unless told otherwise.
	MaxSafetyCopies int
	// Now is the clock for token expiry, JWT times and log record
	// timestamps; time.Now when nil.
	Now func() time.Time
	// Logins bound login attempts: failures per (user, client address) and
	// per client address, and password checks at once; zero fields take
	// auth.DefaultLoginLimits.
	Logins auth.LoginLimits
	// TrustedProxies are the ranges of the proxies whose X-Forwarded-For is
	// believed: when the direct peer is in one, the client address is the
	// right-most address of the header outside them. Empty: the header is
	// ignored and the client address is the direct peer.
	TrustedProxies []netip.Prefix
	// JWTKey signs and checks the JWTs of POST /api/v1/auth/login
	// (auth.Options.JWTKey, from auth.LoadOrCreateJWTKey). Without it a
	// login fails with a 500 and only personal access tokens work.
	JWTKey []byte

	// BeforeRestoreWrite, when set, is called by every restore once its
	// upload has been verified, just before the safety snapshot is taken:
	// for a merge while the database is held shared, for a wipe (wipe true)
	// while its gate is held exclusively, so requests to it get 503. It is a
	// test hook, used to hold a restore in place; leave it nil in production.
	BeforeRestoreWrite func(db kv.Name, wipe bool)
	// DuringPasswordCheck, when set, is called by every login that got
	// past the login limits, while it holds one of the password check
	// slots, just before the password is checked. It is a test hook, used
	// to count the checks running at once; leave it nil in production.
	DuringPasswordCheck func()
}

// Server is the flowg HTTP API over one kv.Store. Create it with New and
// serve Handler; it does not own the store, which the caller closes after
// Stop. A Server is safe for concurrent use.
type Server struct {
	store   *kv.Store
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	catalog *catalogState
	ops     *operations.Tracker
	links   *downloadLinks
	echo    *echo.Echo
	logins  *auth.LoginGuard

	// base is cancelled by Stop: running backups and restores stop at
	// their next check.
	base     context.Context
	cancel   context.CancelFunc
	inflight atomic.Int64
}

// New returns a Server serving store with opts.
func New(store *kv.Store, opts Options) *Server {
	if opts.BackupDir == "" {
		opts.BackupDir = DefaultBackupDir
	}
	if opts.UploadDir == "" {
		opts.UploadDir = os.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxChain <= 0 {
		opts.MaxChain = DefaultMaxChain
	}
	if opts.Logins.Now == nil {
		opts.Logins.Now = opts.Now
	}
	s := &Server{store: store, opts: opts, log: opts.Logger, now: opts.Now, metrics: newMetrics(),
		logins: auth.NewLoginGuard(opts.Logins)}
	s.metrics.watchIncomplete(store.Dirs())
	for _, m := range backup.IncompleteIn(store.Dirs().Auth, store.Dirs().Config, store.Dirs().Logs) {
		s.log.Warn("a merge restore did not finish: the database holds part of a backup", "database", m.Database, "dir", m.Dir,
			"source", m.Source, "started", m.Started, "marker", m.Path,
			"next", "run that restore again to its end, or undo it (restore its safety snapshot with wipe=true)")
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.openCatalog()
	s.openOperations()
	s.links = newDownloadLinks(opts.DownloadLinkTTL, opts.MaxDownloadLinks, opts.MaxDownloadLinksPerUser)
	s.metrics.reg.MustRegister(newDrillCollector(s.base, s.catalog.cat.LastDrill, s.log))
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientAddress(opts.TrustedProxies)
	e.JSONSerializer = jsonSerializer{}
	e.Use(s.logRequests, s.recoverPanics)
	s.echo = e
	s.routes()
	return s
}

// Handler returns the http.Handler serving the API (the echo instance).
func (s *Server) Handler() http.Handler { return s.echo }

// Stop cancels the backups and restores still running, which stop at their
// next check (a wipe restore not yet swapped in leaves the database as it
// was; a merge cut short leaves part of the backup written, which its safety
// snapshot undoes), then waits until every handler has returned or ctx ends.
// Call it after http.Server.Shutdown, before closing the store.
func (s *Server) Stop(ctx context.Context) error {
	s.cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// opContext returns a context that ends when parent ends or Stop is called.
// In a tracked request (see tracked), it starts the request's operation.
func (s *Server) opContext(parent context.Context) (context.Context, context.CancelFunc) {
	parent = startTracked(parent)
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(s.base, cancel)
	return ctx, func() { stop(); cancel() }
}

// routes registers every route. Authenticated routes carry s.authenticate
// as route middleware, so an unknown path gets 404, not 401.
func (s *Server) routes() {
	e, authn := s.echo, s.authenticate
	s.answerHeadLikeGet()
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))

	e.POST("/api/v1/auth/login", s.login)
	e.GET("/api/v1/auth/me", s.authMe, authn)
	e.POST("/api/v1/tokens", s.createToken, authn)
	e.GET("/api/v1/tokens", s.listTokens, authn)
	e.DELETE("/api/v1/tokens/:id", s.revokeToken, authn)

	e.GET("/api/v1/users", s.listUsers, authn)
	e.GET("/api/v1/users/:name", s.getUser, authn)
	e.PUT("/api/v1/users/:name", s.putUser, authn)
	e.DELETE("/api/v1/users/:name", s.deleteUser, authn)
	e.GET("/api/v1/roles", s.listRoles, authn)
	e.GET("/api/v1/roles/:name", s.getRole, authn)
	e.PUT("/api/v1/roles/:name", s.putRole, authn)
	e.DELETE("/api/v1/roles/:name", s.deleteRole, authn)

	s.configRoutes(authn)
	s.consoleRoutes()

	e.GET("/api/v1/streams", s.listStreams, authn)
	e.GET("/api/v1/streams/:stream", s.getStream, authn)
	e.PUT("/api/v1/streams/:stream", s.putStream, authn)
	e.POST("/api/v1/streams/:stream/logs", s.ingestLogs, authn)
	e.GET("/api/v1/streams/:stream/logs", s.queryLogs, authn)

	e.HEAD("/api/v1/backup/:db", s.backupHead, authn) // before GET: HEAD must not dump
	e.GET("/api/v1/backup/:db", s.backup, authn)
	e.POST("/api/v1/restore/:db", s.tracked(operations.KindRestore, false, aboutUpload, s.restore), authn)
	e.GET("/api/v1/export/:db", s.exportDB, authn)
	e.POST("/api/v1/import/:db", s.tracked(operations.KindImport, false, aboutUpload, s.importDB), authn)

	e.GET("/api/v1/backups", s.listSets, authn)
	e.POST("/api/v1/backups", s.tracked(operations.KindBackup, true, aboutOnly, s.createSet), authn)
	e.GET("/api/v1/backups/:id", s.getSet, authn)
	e.DELETE("/api/v1/backups/:id", s.deleteSet, authn)
	e.GET("/api/v1/backups/:id/:db", s.downloadSetFile, authn)
	e.HEAD("/api/v1/backups/:id/:db", s.downloadSetFile, authn)
	e.POST("/api/v1/backups/:id/verify", s.tracked(operations.KindVerify, true, s.aboutSet, s.verifySet), authn)
	e.POST("/api/v1/backups/:id/restore", s.tracked(operations.KindRestore, true, s.aboutSet, s.restoreSet), authn)
	e.POST("/api/v1/backups/restore", s.tracked(operations.KindRestore, true, aboutOnly, s.restoreAt), authn)
	e.POST("/api/v1/backups/:id/:db/link", s.createDownloadLink, authn)
	e.POST("/api/v1/backups/:id/files/:db/link", s.createDownloadLink, authn) // the same, as issue #16 spelled it
	e.HEAD("/api/v1/downloads/:token", s.downloadLinkHead)                    // before GET: HEAD must not use the link
	e.GET("/api/v1/downloads/:token", s.downloadByLink)                       // the token is the credential
	e.GET("/api/v1/operations", s.listOperations, authn)
	e.GET("/api/v1/operations/:id", s.getOperation, authn)
	e.GET("/api/v1/backups/journal", s.listJournal, authn)
}

// acquire holds database n for the caller until release is called. While n
// is being wiped and reloaded it returns an error the client gets as 503
// with Retry-After.
func (s *Server) acquire(n kv.Name) (*kv.DB, func(), error) {
	db, release, err := s.store.Acquire(n)
	if err != nil {
		return nil, nil, unavailable(n, err)
	}
	return db, release, nil
}

// acquireStream holds database n for a backup stream until release is
// called; cut is called if a wipe of n waited its grace for the stream. Past
// the cap of streams of n it returns an error the client gets as 429 with
// Retry-After; while n is being wiped, a 503.
func (s *Server) acquireStream(n kv.Name, cut func()) (*kv.DB, func(), error) {
	db, release, err := s.store.AcquireStream(n, cut)
	switch {
	case errors.Is(err, kv.ErrTooManyStreams):
		return nil, nil, tooManyStreams(n, err)
	case err != nil:
		return nil, nil, unavailable(n, err)
	}
	return db, release, nil
}

// healthz answers 200 {"status":"ok"} while the server runs, with the state
// of each database: "ok", or "unavailable" while a wipe restore holds it.
func (s *Server) healthz(c echo.Context) error {
	dbs := map[string]string{}
	for _, n := range kv.Names {
		state := "ok"
		if _, release, err := s.store.Acquire(n); err != nil {
			state = "unavailable"
		} else {
			release()
		}
		dbs[string(n)] = state
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "databases": dbs})
}

// dbParam parses the :db path parameter of the backup and restore routes.
func dbParam(c echo.Context) (kv.Name, error) {
	n, err := kv.ParseName(c.Param("db"))
	if err != nil {
		return "", &apiError{status: http.StatusNotFound, msg: err.Error(),
			hint: "the databases are auth, config and logs: /api/v1/backup/logs, /api/v1/restore/logs"}
	}
	return n, nil
}
