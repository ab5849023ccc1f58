package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/flowg-backup/flowg/auth"
	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/export"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/internal/quota"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// defaultStagingName is the staging directory of restore uploads, beside
// the databases' directories, when --upload-dir is not given.
const defaultStagingName = "restore-uploads"

// How long shutdown waits for in-flight requests, then for cut ones to return.
const (
	shutdownGrace = 10 * time.Second
	stopGrace     = 5 * time.Second
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the flowg server: the HTTP API with online backup and restore",
		UsageText: "flowg serve [--auth-dir DIR] [--config-dir DIR] [--log-dir DIR] [--http-bind ADDR] [--tls-cert FILE --tls-key FILE | --insecure-http] [--backup-dir DIR] [--root-password-file FILE] [--jwt-key-file FILE] [--no-online-restore] [--upload-dir DIR]\n" +
			"            [--backup-schedule SPEC [--backup-verify]] [--backup-keep N] [--backup-max-age DURATION] [--backup-create-rate N/DURATION]",
		Description: `Opens the auth, config and logs databases and serves the HTTP API on
--http-bind (see the httpapi README for the routes). On first start, with an
empty auth database, it creates role admin (every scope) and user root, with
the password from --root-password-file (its first line), FLOWG_ROOT_PASSWORD or
--root-password (which every user sees in ps: avoid it), or a random password
printed once to stderr. It logs one line per request to stderr and never logs
a token or password.

JWTs from POST /api/v1/auth/login are signed with the key in --jwt-key-file
(default: <auth-dir>.jwt-key, beside the auth database, never inside a
database directory), created 0600 with a random key on first start; a key
file readable by group or others, or damaged, stops the start. No backup of
the databases holds it. A signing key an older flowg kept inside the auth
database (meta/jwt_secret) is deleted at start and after every restore of
auth; JWTs it signed stop working, personal access tokens do not.

Online backup: GET /api/v1/backup/{auth,config,logs} streams a backup file
while the server keeps serving (scopes: read_acls; read_pipelines,
read_transformers and read_alerts; read_streams). Online restore:
POST /api/v1/restore/{auth,config,logs} with the file as the form field
backup (curl --form backup=@auth.db), add ?wipe=true for a destructive
restore (scopes: write_acls; the three write_ scopes; write_streams). Before
a restore changes a database, a safety snapshot of it is written to
--backup-dir. --no-online-restore refuses every online restore. At most
--max-backup-streams (default 2) online backups of one database run at once;
more get 429 with Retry-After. A wipe restore waits --wipe-grace (default 5s)
for the online backups of its database, then cuts them: their clients see an
incomplete transfer, which verify and restore refuse.

Backup catalog: --backup-dir holds backup sets, one DIR/<id>/ per set with
auth.db, config.db, log.db and manifest.json, each listed with a trust label
(restore-verified; created, not restore-verified; verify failed; incomplete;
running). With --backup-schedule the server takes a set of every database on a
cron schedule ("0 2 * * *", five fields, server local time; or "@every 6h",
"@daily"), never two at once: a run still going when the next is due makes
that one skip. --backup-verify verifies each scheduled set right after it is
written (every checksum and a load into a scratch database).
--backup-incremental makes scheduled sets incremental (only what changed since
the newest set); POST /api/v1/backups?incremental=true asks for one now.
Either way a chain holds at most --backup-full-every sets (default 7): the
next set is full and starts a new chain. After every set, scheduled or made
with POST /api/v1/backups, retention deletes the sets --backup-keep and
--backup-max-age drop, counting per database: a set goes only when every
database it holds keeps its N newest manual and scheduled sets without it
(default 30), or it is past the maximum age (720h, or in days: 30d); sets of
one database never push out another's. Pre_restore safety snapshots are kept
for the maximum age at least, and the newest restore-verified and the newest
usable set of each database are never deleted ('flowg admin backups prune
--dry-run --verbose' says why each set is kept). Each user may create at most
--backup-create-rate sets with POST /api/v1/backups (default 6/h). See the sets with
'flowg backups list' (running server) or 'flowg admin backups list'.

Restore drills: with --backup-drill SCHEDULE (cron, as --backup-schedule)
the server runs 'flowg admin drill' on its catalog: the newest
restore-verified set is restored into a scratch directory under
--backup-drill-work-dir, served by a child flowg on a loopback port,
checked, removed, and recorded in the catalog (drills/<time>.json). The
last drill's time, RTO, RPO and result are in /metrics (flowg_drill_last_*).

TLS: with --tls-cert and --tls-key the server speaks HTTPS only (TLS 1.2
and later) and reads the pair again on SIGHUP (a pair that does not load is
logged and the previous one stays). Without them it speaks plain HTTP, which
a loopback --http-bind (127.0.0.1, ::1, localhost; the default) gets as is;
any other address needs --insecure-http (a TLS-terminating proxy in front)
and logs a warning.

Logins: failed logins are counted per user and client address
(--login-rate, default 5/1m: a burst of 5, then one every 12s) and per client
address (--login-rate-per-address, default 30/1m), never per user alone, so
no one can lock root out from elsewhere; beyond either, POST
/api/v1/auth/login answers 429 with Retry-After, the right password included,
until the wait is over. At most --max-concurrent-logins (default 4) password
checks run at once (each takes 19 MiB); a login that finds none free within
--login-wait (default 3s) gets 503 with Retry-After. The client address is
the direct peer; X-Forwarded-For is believed only from --trusted-proxy ranges.

On SIGINT or SIGTERM it stops accepting connections, waits up to 10s for
requests in flight, cuts the rest cleanly and closes the databases.

Examples:
   flowg serve
   flowg serve --http-bind 0.0.0.0:5443 --tls-cert /etc/flowg/cert.pem --tls-key /etc/flowg/key.pem --backup-dir /var/backups/flowg
   FLOWG_ROOT_PASSWORD=s3cret flowg serve --auth-dir ./data/auth --config-dir ./data/config --log-dir ./data/logs
   flowg serve --root-password-file /etc/flowg/root-password --jwt-key-file /etc/flowg/jwt-key
   flowg serve --no-online-restore --max-upload 64GiB
   flowg serve --backup-dir /var/backups/flowg --backup-schedule "0 2 * * *" --backup-verify --backup-keep 14 --backup-max-age 30d
   flowg serve --backup-schedule "@every 6h" --backup-keep 28
   flowg serve --backup-schedule "@every 6h" --backup-incremental --backup-full-every 4
   flowg serve --http-bind 127.0.0.1:5080 --trusted-proxy 127.0.0.1/32 --login-rate 5/1m --max-concurrent-logins 4`,
		Flags: append(append(dirFlags(),
			&cli.StringFlag{Name: "http-bind", Value: "127.0.0.1:5080", Usage: "address to serve on; plain HTTP beyond loopback needs --insecure-http", EnvVars: []string{"FLOWG_HTTP_BIND"}},
			&cli.StringFlag{Name: "backup-dir", Value: httpapi.DefaultBackupDir, Usage: "backup catalog: scheduled and manual sets and pre-restore safety snapshots go to DIR/<id>/; a directory or s3://bucket/prefix", EnvVars: []string{"FLOWG_BACKUP_DIR"}},
			&cli.StringFlag{Name: "backup-schedule", Usage: `take a backup set on this cron schedule: "0 2 * * *" (5 fields, local time) or "@every 6h"; none when empty`, EnvVars: []string{"FLOWG_BACKUP_SCHEDULE"}},
			&cli.BoolFlag{Name: "backup-verify", Usage: "verify each scheduled set right after it is written (needs --backup-schedule)"},
			&cli.BoolFlag{Name: "backup-incremental", Usage: "scheduled sets hold only what changed since the previous set (a full set starts each chain)"},
			excludeStreamFlag("backup-exclude-stream"),
			&cli.IntFlag{Name: "backup-full-every", Value: httpapi.DefaultMaxChain, Usage: "an incremental chain holds at most this many sets, then a full set starts the next: for --backup-incremental and POST /api/v1/backups?incremental=true"},
			&cli.IntFlag{Name: "backup-keep", Value: backup.DefaultKeep, Usage: "retention: keep the newest N manual and scheduled sets of each database (0: no limit by count)"},
			&cli.StringFlag{Name: "backup-create-rate", Value: httpapi.DefaultBackupCreateRate, Usage: "sets each user may create with POST /api/v1/backups, as COUNT/DURATION (6/h, 20/24h); 429 with Retry-After beyond it; 0 for no limit"},
			&cli.StringFlag{Name: "backup-max-age", Usage: "retention: delete sets older than this, e.g. 720h or 30d; pre-restore sets are kept at least this long (0: no limit by age)"},
			&cli.BoolFlag{Name: "no-online-restore", Usage: "refuse POST /api/v1/restore/... (403); restore offline with 'flowg admin restore'"},
			&cli.StringFlag{Name: "restore-dir", Usage: "opt in: a restore that names a file instead of uploading it (curl --form backup=auth.db, without @) restores that file from DIR on the server; without it such a restore is refused with a 400 that says to add the @"},
			&cli.StringFlag{Name: "upload-dir", Usage: "where restore uploads are staged while checked, a directory of this server's own (0700; what an interrupted restore left there is removed at start) (default: " + defaultStagingName + " beside the --auth-dir directory)", EnvVars: []string{"FLOWG_UPLOAD_DIR"}},
			&cli.StringFlag{Name: "max-upload", Usage: "largest restore upload accepted, e.g. 64GiB (default: no limit)"},
			&cli.IntFlag{Name: "import-max-line-bytes", Value: export.DefaultMaxLineBytes, Usage: "longest line POST /api/v1/import/DB accepts; a longer one is a 400"},
			&cli.IntFlag{Name: "max-safety-copies", Value: backup.DefaultMaxSafetyCopies, Usage: "how many safety copies of earlier restores (pre_restore sets, set-aside directories) a database may have; a restore that would keep one more is refused (507) with the list to remove (0: no limit)"},
			&cli.StringFlag{Name: "max-restore-size", Value: "64GiB", Usage: "largest logical size (keys plus values) an online restore writes: a compressed upload can hold a thousand times its size; larger ones get 413, restore them offline"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "server log format on stderr: text or json"},
			&cli.StringSliceFlag{Name: "identity", Usage: "age identity file to decrypt encrypted sets for verification and restore"},
			&cli.IntFlag{Name: "max-concurrent-verifies", Value: httpapi.DefaultMaxConcurrentVerifies, Usage: "verifications asked for over the API (POST /api/v1/backups/ID/verify, POST /api/v1/backups?verify=true) that may run at once on the server; more get 429 with Retry-After. Each user also verifies at most --backup-create-rate sets, counted apart"},
			&cli.IntFlag{Name: "max-backup-streams", Value: kv.DefaultMaxStreams, Usage: "online backups (GET /api/v1/backup/DB) that may run at once per database; more get 429 with Retry-After"},
			&cli.StringFlag{Name: "wipe-grace", Value: kv.DefaultWipeGrace.String(), Usage: "how long a wipe restore waits for the online backups of its database before it cuts them"},
		), append(append(append(append(append(append(s3Flags(), encryptFlags()...), tlsFlags()...), loginFlags()...), secretFlags()...), drillFlags()...), append(continuousFlags(), opsAPIFlags()...)...)...),
		Action: serve,
	}
}

func serve(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	errOut := c.App.ErrWriter
	logger, err := newLogger(errOut, c.String("log-format"))
	if err != nil {
		return err
	}
	if c.Int("import-max-line-bytes") < 1 {
		return usagef("--import-max-line-bytes must be at least 1")
	}
	var maxUpload int64
	if v := c.String("max-upload"); v != "" {
		n, err := humanize.ParseBytes(v)
		if err != nil || n == 0 || n > 1<<62 {
			return usagef("--max-upload %q: use a size such as 64GiB", v)
		}
		maxUpload = int64(n)
	}
	logins, trustedProxies, err := loginOptionsFrom(c)
	if err != nil {
		return err
	}
	maxRestore, err := sizeFlag(c, "max-restore-size")
	if err != nil {
		return err
	}

	backupDir := c.String("backup-dir")
	if !backup.IsS3URL(backupDir) {
		if backupDir, err = filepath.Abs(backupDir); err != nil {
			return usagef("--backup-dir: %v", err)
		}
	}
	keys, err := backupKeysFrom(c)
	if err != nil {
		return err
	}
	if keys.Encrypts() && len(keys.Identities) == 0 && c.Bool("backup-verify") {
		return usagef("--backup-verify of sets encrypted with --encrypt-to needs --identity (the matching private key)")
	}
	continuous, err := continuousFrom(c)
	if err != nil {
		return err
	}
	cat, err := catalogFrom(c, backupDir)
	if err != nil {
		return opError{op: "serve", err: err, safe: "nothing was opened or written",
			next: "check --backup-dir, --s3-endpoint and the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment"}
	}
	cat.WithKeys(keys)
	excluded, err := excludeStreamsFrom(c, "backup-exclude-stream")
	if err != nil {
		return err
	}
	plan, err := backupPlanFrom(c)
	if err != nil {
		return err
	}
	drills, err := drillPlanFrom(c)
	if err != nil {
		return err
	}
	reloader, err := serveTLSFrom(c, logger)
	if err != nil {
		return err
	}
	streams, err := streamLimitsFrom(c)
	if err != nil {
		return err
	}
	opsAPI, err := opsAPIOptionsFrom(c)
	if err != nil {
		return err
	}
	maxVerifies := c.Int("max-concurrent-verifies")
	if maxVerifies < 1 {
		return usagef("--max-concurrent-verifies %d: give how many verifications asked for over the API may run at once on the server, at least 1", maxVerifies)
	}
	// Listen first, so a taken address changes nothing; connections wait
	// in the backlog until Serve.
	bind := c.String("http-bind")
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return opError{op: "serve", err: fmt.Errorf("listen on %s: %w", bind, err), safe: "nothing was opened or written",
			next: "choose another --http-bind, or stop what listens there (another flowg?)"}
	}
	defer ln.Close()
	if reloader == nil {
		if err := checkPlainHTTP(c, ln, logger); err != nil {
			return err
		}
	}
	dirs, err := dirsFrom(c)
	if err != nil {
		return err
	}
	rootPassword, err := rootPasswordFrom(c, errOut)
	if err != nil {
		return err
	}
	jwtKey, err := jwtKeyFrom(c, dirs, logger)
	if err != nil {
		return err
	}
	store, err := kv.OpenStore(dirs)
	if err != nil {
		return serveOpenError(err)
	}
	store.SetStreamLimits(streams)
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("close databases", "error", err)
		}
	}()
	if err := purgeLegacyJWTKey(store, logger); err != nil {
		return opError{op: "serve", err: err, safe: "the databases were opened and closed"}
	}
	// Uploads are staged in a directory of this server's own, beside the
	// databases: what a crash left there (for auth, copies of its secrets)
	// is removed now, with the wipe restores' unfinished databases.
	uploadDir := c.String("upload-dir")
	if uploadDir == "" {
		uploadDir = filepath.Join(filepath.Dir(filepath.Clean(dirs.Auth)), defaultStagingName)
	}
	removed, release, err := backup.ClaimStaging(uploadDir, dirs.Auth, dirs.Config, dirs.Logs)
	if release == nil {
		return opError{op: "serve", err: fmt.Errorf("--upload-dir: %w", err), safe: "nothing was written",
			next: "give each server a staging directory of its own (--upload-dir)"}
	}
	defer release()
	for _, path := range removed {
		logger.Info("removed what an interrupted restore left behind", "path", path)
	}
	if err != nil {
		logger.Warn("leftovers of interrupted restores could not all be removed", "error", err)
	}
	// The catalog's own leftovers: sets a crash cut short while writing
	// (for auth, copies of its secrets) or deleting them.
	removed, err = cat.RemoveUnfinishedSets(time.Now())
	for _, path := range removed {
		logger.Info("removed an unfinished backup set an interrupted run left behind", "path", path, "untouched_for_over", backup.UnfinishedSetAge)
	}
	if err != nil {
		logger.Warn("unfinished backup sets could not all be removed", "error", err)
	}
	if err := bootstrapRoot(store, rootPassword, errOut, logger); err != nil {
		return opError{op: "serve", err: fmt.Errorf("bootstrap root user: %w", err), safe: "the databases were opened and closed"}
	}
	cont, stopContinuous, err := startContinuous(c, continuous, cat, store, logger)
	if err != nil {
		return err
	}
	defer stopContinuous()

	srv := httpapi.New(store, httpapi.Options{
		BackupDir:        backupDir,
		Catalog:          cat,
		NoOnlineRestore:  c.Bool("no-online-restore"),
		Logger:           logger,
		Version:          version,
		RestoreDir:       c.String("restore-dir"),
		UploadDir:        uploadDir,
		MaxUploadBytes:   maxUpload,
		Retention:        plan.retention,
		BackupCreateRate: plan.createRate,
		MaxChain:         plan.fullEvery,
		Logins:           logins,
		TrustedProxies:   trustedProxies,
		JWTKey:           jwtKey,
		MaxRestoreBytes:  maxRestore,
		MaxSafetyCopies:  c.Int("max-safety-copies"),

		ImportMaxLineBytes: c.Int("import-max-line-bytes"),

		BackupExcludeStreams: excluded,

		MaxConcurrentVerifies: maxVerifies,

		OperationsKeep:   opsAPI.operationsKeep,
		DownloadLinkTTL:  opsAPI.downloadLinkTTL,
		MaxDownloadLinks: opsAPI.maxDownloadLinks,

		MaxDownloadLinksPerUser: opsAPI.maxDownloadLinksPerUser,
	})
	if err := exposeContinuous(srv, cont); err != nil {
		return opError{op: "serve", err: err, safe: "nothing was served"}
	}
	sched, err := startBackupSchedule(srv, plan, logger)
	if err != nil {
		return opError{op: "serve", err: err, safe: "nothing was written"}
	}
	// The schedule stops before the server and the store (deferred above):
	// a run going on is cancelled and waited for.
	stopSchedule := func() {}
	if sched != nil {
		var once sync.Once
		stopSchedule = func() {
			once.Do(func() {
				sched.Stop()
				logger.Info("backup schedule stopped")
			})
		}
		defer stopSchedule()
	}
	drillSched, err := startDrillSchedule(cat, drills, logger)
	if err != nil {
		return opError{op: "serve", err: err, safe: "nothing was written"}
	}
	if drillSched != nil {
		stopBackups := stopSchedule
		stopSchedule = func() { drillSched.Stop(); stopBackups() }
		defer drillSched.Stop()
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	scheme := serveOn(c, hs, ln, reloader, served)
	fmt.Fprintf(errOut, "flowg listening on %s://%s\n", scheme, ln.Addr())
	fmt.Fprintf(errOut, "flowg console: %s (sign in with a user's password or a personal access token)\n", consoleURL(scheme, ln.Addr()))
	logger.Info("serving", "addr", ln.Addr().String(), "scheme", scheme, "auth_dir", dirs.Auth, "config_dir", dirs.Config, "log_dir", dirs.Logs,
		"backup_dir", backupDir, "online_restore", !c.Bool("no-online-restore"), "version", version)

	select {
	case err := <-served:
		stopSchedule()
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		_ = srv.Stop(ctx)
		return opError{op: "serve", err: err, safe: "the databases are closed cleanly"}
	case <-c.Context.Done():
	}
	stopSchedule()
	logger.Info("shutting down: no new connections; waiting for requests in flight", "grace", shutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		logger.Warn("requests still running after the grace period are being cut", "error", err)
	}
	stopCtx, stopCancel := context.WithTimeout(context.Background(), stopGrace)
	defer stopCancel()
	if err := srv.Stop(stopCtx); err != nil {
		logger.Error("requests did not stop in time; closing anyway", "error", err)
	}
	_ = hs.Close()
	logger.Info("stopped")
	return nil
}

// newLogger returns the server's structured logger on w.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usagef("--log-format %q: use text or json", format)
}

// serveOpenError explains why the databases could not be opened.
func serveOpenError(err error) error {
	next := "check --auth-dir, --config-dir and --log-dir and their permissions"
	if errors.Is(err, kv.ErrLocked) {
		next = "another process holds the database: a running flowg server or an offline `flowg admin` command; stop it first"
	}
	return opError{op: "serve", err: err, safe: "nothing was written", next: next}
}

// bootstrapRoot creates role admin and user root in an empty auth database.
// A generated password is printed once to errOut and never logged.
func bootstrapRoot(store *kv.Store, password string, errOut io.Writer, logger *slog.Logger) error {
	db, release, err := store.Acquire(kv.Auth)
	if err != nil {
		return err
	}
	defer release()
	created, pw, err := auth.NewService(db, auth.Options{}).Bootstrap(password)
	switch {
	case err != nil:
		return err
	case created && password == "":
		fmt.Fprintf(errOut, "flowg: created user %s with password %s\n", auth.RootUser, pw)
		fmt.Fprintf(errOut, "       it is shown only this once; change it with PUT /api/v1/users/%s\n", auth.RootUser)
		logger.Info("created role and user with a generated password (printed once to stderr)", "role", auth.AdminRole, "user", auth.RootUser)
	case created:
		logger.Info("created role and user with the given root password", "role", auth.AdminRole, "user", auth.RootUser)
	case password != "":
		logger.Info("users exist: the root password given is ignored (it only applies to the first start)")
	}
	return nil
}

// streamLimitsFrom reads and checks --max-backup-streams and --wipe-grace.
func streamLimitsFrom(c *cli.Context) (kv.StreamLimits, error) {
	l := kv.StreamLimits{Max: c.Int("max-backup-streams")}
	if l.Max < 1 {
		return l, usagef("--max-backup-streams %d: give how many online backups of one database may run at once, at least 1", l.Max)
	}
	v := c.String("wipe-grace")
	grace, err := time.ParseDuration(v)
	if err != nil || grace < 0 {
		return l, usagef("--wipe-grace %s: give how long a wipe waits for online backups, e.g. 5s or 500ms (0s: cut them at once)", v)
	}
	l.WipeGrace = grace
	return l, nil
}

// backupPlan is what the --backup-* flags of serve ask for.
type backupPlan struct {
	schedule    string // "" for none
	verify      bool
	incremental bool
	fullEvery   int
	retention   backup.Retention
	createRate  quota.Rate
}

// backupPlanFrom reads and checks the --backup-* flags: a schedule that does
// not parse is a usage error, found before anything is opened.
func backupPlanFrom(c *cli.Context) (backupPlan, error) {
	p := backupPlan{
		schedule:    strings.TrimSpace(c.String("backup-schedule")),
		verify:      c.Bool("backup-verify"),
		incremental: c.Bool("backup-incremental"),
		fullEvery:   c.Int("backup-full-every"),
		retention:   backup.Retention{Keep: c.Int("backup-keep")},
	}
	maxAge, err := retentionAgeFrom(c, "backup-max-age")
	if err != nil {
		return p, err
	}
	p.retention.MaxAge = maxAge
	if p.fullEvery < 1 {
		return p, usagef("--backup-full-every %d: give how many sets a chain may hold, at least 1", p.fullEvery)
	}
	if p.schedule != "" {
		if _, err := backup.ParseSchedule(p.schedule); err != nil {
			return p, usagef("--backup-schedule: %v", err)
		}
	} else if p.verify {
		return p, usagef("--backup-verify verifies scheduled sets: give --backup-schedule too (e.g. \"0 2 * * *\")")
	}
	if p.retention.Keep < 0 {
		return p, usagef("--backup-keep %d: give a number of sets, 0 for no limit", p.retention.Keep)
	}
	if p.createRate, err = quota.ParseRate(c.String("backup-create-rate")); err != nil {
		return p, usagef("--backup-create-rate: %v", err)
	}
	return p, nil
}

// startBackupSchedule starts taking backup sets on the plan's schedule, nil
// when there is none. Each run is logged with its set id, label and
// duration; the caller stops the scheduler before closing the store.
func startBackupSchedule(srv *httpapi.Server, plan backupPlan, logger *slog.Logger) (*backup.Scheduler, error) {
	if plan.schedule == "" {
		return nil, nil
	}
	job := func(ctx context.Context) error {
		res, err := srv.RunBackup(ctx, httpapi.BackupRun{Verify: plan.verify, Trigger: backup.TriggerScheduled, By: "scheduler",
			Incremental: plan.incremental, MaxChain: plan.fullEvery})
		if err != nil {
			return fmt.Errorf("scheduled backup set %s: %w", res.Set.ID, err)
		}
		if res.Set.Label == backup.LabelVerifyFailed {
			return fmt.Errorf("scheduled backup set %s was written but failed its verification: %s", res.Set.ID, res.Set.Problem)
		}
		return nil
	}
	sched, err := backup.NewScheduler(plan.schedule, job, logger.With("job", "backup"))
	if err != nil {
		return nil, err
	}
	sched.Start()
	logger.Info("backup schedule started", "schedule", plan.schedule, "verify", plan.verify, "keep", plan.retention.Keep,
		"max_age", plan.retention.MaxAge, "next", sched.Next(time.Now()).Format(time.RFC3339))
	return sched, nil
}
