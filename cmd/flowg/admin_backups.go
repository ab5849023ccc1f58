package main

import (
	"errors"
	"fmt"
	"github.com/flowg-backup/flowg/kv"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/urfave/cli/v2"
)

func adminBackupsCommand() *cli.Command {
	// catalogFlags returns a fresh slice each time: the commands append to it.
	catalogFlags := func() []cli.Flag {
		return append(s3Flags(), &cli.StringFlag{Name: "backup-dir", Value: "./backups", Usage: "the catalog: the server's --backup-dir (a directory or s3://bucket/prefix)"})
	}
	return &cli.Command{
		Name:   "backups",
		Action: groupAction,
		Usage:  "list, verify and prune the backup sets of a catalog directory, offline",
		Description: `A catalog is the directory where the server keeps its backup sets (its
--backup-dir, default ./backups): one <id>/ directory per set with auth.db,
config.db, log.db and manifest.json. These commands work on the directory
alone; the server may be running or not.

Examples:
   flowg admin backups list --backup-dir ./backups
   flowg admin backups verify --backup-dir ./backups 20261122T020000Z-3fa2c1
   flowg admin backups verify --backup-dir ./backups --all
   flowg admin backups prune --backup-dir ./backups --keep 7 --max-age 30d --dry-run`,
		Subcommands: []*cli.Command{
			withJSONReport(&cli.Command{
				Name:      "create",
				Usage:     "take a backup set of the stopped server's databases into the catalog",
				UsageText: "flowg admin backups create [--backup-dir DIR] [--auth-dir ...] [--only ...] [--incremental [--full-every N]] [--verify]",
				Description: `Writes a new set <id>/ into the catalog, from databases opened read-only.
With --incremental the set holds only what changed since the newest complete
set, plus the list of live keys (so deletions are restored too); it is full,
and says why, when there is no such set, a database was rebuilt since, or
that set's chain already holds --full-every sets (default 7, as the server's
--backup-full-every): a new chain then starts, so restoring never replays an
endless chain.

Examples:
   flowg admin backups create --backup-dir ./backups --verify
   flowg admin backups create --backup-dir ./backups --incremental --full-every 7`,
				Flags: append(append(append(append(catalogFlags(), dirFlags()...), encryptFlags()...), onlyFlag(), excludeStreamFlag("exclude-stream")),
					&cli.BoolFlag{Name: "incremental", Usage: "only what changed since the newest complete set"},
					&cli.IntFlag{Name: "full-every", Value: httpapi.DefaultMaxChain, Usage: "with --incremental: a chain holds at most N sets, then a full set starts the next"},
					&cli.BoolFlag{Name: "verify", Usage: "verify the set right after writing it"},
					&cli.StringSliceFlag{Name: "identity", Usage: "age identity file, to --verify a set encrypted with --encrypt-to"},
				),
				Action: recordedOffline(offlineCreate, adminBackupsCreate),
			}),
			adminBackupsJournalCommand(catalogFlags()),
			{
				Name:      "list",
				Usage:     "list the sets, newest first, with their trust label",
				UsageText: "flowg admin backups list [--backup-dir DIR] [--json]",
				Flags:     append(catalogFlags(), &cli.BoolFlag{Name: "json", Usage: "print JSON"}),
				Action:    adminBackupsList,
			},
			withJSONReport(&cli.Command{
				Name:      "verify",
				Usage:     "verify sets: every checksum, and a load into a scratch database; records the result",
				UsageText: "flowg admin backups verify [--backup-dir DIR] (ID... | --all)",
				Flags:     append(append(catalogFlags(), decryptFlags()...), &cli.BoolFlag{Name: "all", Usage: "verify every complete set"}),
				Action:    recordedOffline(offlineVerifySets, adminBackupsVerify),
			}),
			withJSONReport(&cli.Command{
				Name:      "prune",
				Usage:     "delete the sets a retention policy drops, counted per database (never the newest restore-verified one)",
				UsageText: "flowg admin backups prune [--backup-dir DIR] [--keep N] [--max-age DURATION] [--dry-run [--verbose]]",
				Description: `Deletes the sets that --keep and --max-age drop, by the rule the server
applies after every set it writes. Retention counts per database: a set is
deleted only when every database it holds keeps N newer manual or scheduled
sets (--keep, default 30), or it is older than --max-age; sets of one
database never push out those of another. Pre_restore safety snapshots are
kept for the maximum age at least and never counted. It never deletes the
newest restore-verified or the newest usable set of a database, a set
another set builds on, or a running set. Each deleted set is printed with
the reason. DURATION is as Go writes it (720h, 90m) or a whole number of
days (30d).

On a local catalog, prune takes a lock on the catalog directory: it waits
(up to 30s) while a running server restores from or verifies a set, and the
server waits for it. On s3:// there is no such lock: prune where the server
runs, or while it is stopped.

On a local catalog it also removes (and prints) what interrupted runs left:
unfinished sets (.tmp-<id>, .deleting-<id>) untouched for over an hour, as
the server does at start; not with --dry-run.

Examples:
   flowg admin backups prune --backup-dir ./backups --dry-run --verbose
   flowg admin backups prune --backup-dir ./backups --max-age 30d --dry-run
   flowg admin backups prune --backup-dir ./backups --keep 14 --max-age 720h`,
				Flags: append(catalogFlags(),
					&cli.IntFlag{Name: "keep", Value: backup.DefaultKeep, Usage: "keep the newest N manual and scheduled sets of each database (0: no limit by count)"},
					&cli.StringFlag{Name: "max-age", Usage: "drop sets older than this: e.g. 720h, 90m or 30d; pre-restore sets are kept at least this long"},
					&cli.BoolFlag{Name: "dry-run", Usage: "say what would be deleted and why; delete nothing"},
					&cli.BoolFlag{Name: "verbose", Usage: "with --dry-run, also say why each other set is kept"},
				),
				Action: adminBackupsPrune,
			}),
		},
	}
}

func adminBackupsCreate(c *cli.Context) error {
	names, err := namesWithoutArgs(c)
	if err != nil {
		return err
	}
	fullEvery := c.Int("full-every")
	switch {
	case fullEvery < 1:
		return usagef("--full-every %d: give how many sets a chain may hold, at least 1", fullEvery)
	case c.IsSet("full-every") && !c.Bool("incremental"):
		return usagef("--full-every bounds incremental chains: add --incremental, or leave --full-every out for a full set")
	}
	keys, err := backupKeysFrom(c)
	if err != nil {
		return err
	}
	cat, err := openBackupCatalog(c, c.String("backup-dir"), keys)
	if err != nil {
		return err
	}
	dirs, err := dirsFrom(c)
	if err != nil {
		return err
	}
	sources, closeAll, err := openSnapshots(dirs, names)
	var open openError
	if errors.As(err, &open) && errors.Is(open.err, kv.ErrLocked) {
		open.next = "stop the server first, or, while it runs, ask it for the set: `flowg backups create --server URL` or POST /api/v1/backups"
		return open
	}
	if err != nil {
		return err
	}
	defer closeAll()
	excluded, err := excludeStreamsFrom(c, "exclude-stream")
	if err != nil {
		return err
	}
	m, err := cat.Create(c.Context, sources, backup.SetOptions{
		WriteOptions: backup.WriteOptions{ToolVersion: version, ExcludeStreams: excluded},
		Trigger:      backup.TriggerManual,
		By:           "flowg admin backups create",
		Incremental:  c.Bool("incremental"),
		MaxChain:     fullEvery,
	})
	if err != nil {
		return opError{op: "backup", err: err, safe: "the databases were only read; older sets are unchanged"}
	}
	kind := "full"
	switch {
	case m.Parent != "":
		kind = "incremental on " + m.Parent
	case c.Bool("incremental"):
		kind = "full, not incremental: " + m.FullReason
	}
	fmt.Fprintf(c.App.Writer, "set %s (%s)\n", m.ID, kind)
	reportOf(c).set("set", m.ID)
	reportOf(c).set("kind", kind)
	for _, name := range names {
		e := m.Databases[string(name)]
		fmt.Fprintf(c.App.Writer, "  %s\n", entryFigures(string(name), e))
		reportOf(c).add("databases", entryReport(string(name), e, e.File))
	}
	if c.Bool("verify") {
		return verifySetNow(c, cat, m.ID)
	}
	return nil
}

func adminBackupsList(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	cat, err := catalogFrom(c, c.String("backup-dir"))
	if err != nil {
		return opError{op: "list", err: err}
	}
	sets, spans, err := cat.ListWithJournal(c.Context)
	if err != nil {
		return opError{op: "list", err: err}
	}
	if c.Bool("json") {
		if sets == nil {
			sets = []backup.SetInfo{}
		}
		return encodeJSON(c.App.Writer, sets)
	}
	printSets(c.App.Writer, sets)
	printSpans(c.App.Writer, spans)
	if len(sets) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "no backup sets in %s\n", c.String("backup-dir"))
	}
	return nil
}

// printSets prints one line per set, newest first; an incremental set
// names the set it builds on.
func printSets(w io.Writer, sets []backup.SetInfo) {
	if len(sets) == 0 {
		return
	}
	fmt.Fprintf(w, "%-24s  %-20s  %-11s  %-16s  %9s  %-24s  %s\n", "ID", "CREATED", "TRIGGER", "DATABASES", "SIZE", "BUILDS ON", "LABEL")
	for _, s := range sets {
		var size int64
		dbs := make([]string, 0, len(s.Databases))
		for name, e := range s.Databases {
			size += e.Bytes
			dbs = append(dbs, name)
		}
		sort.Strings(dbs)
		label := s.Label
		if s.Problem != "" {
			label += ": " + s.Problem
		}
		fmt.Fprintf(w, "%-24s  %-20s  %-11s  %-16s  %9s  %-24s  %s\n", s.ID, s.Created.Format(time.RFC3339), orDash(s.Trigger),
			orDash(strings.Join(dbs, ",")), sizeText(size), orDash(s.Parent), label)
		printExcluded(w, s)
	}
}

// printExcluded prints, under a set's line, the streams its databases
// left out (--exclude-stream), as its manifest records them.
func printExcluded(w io.Writer, s backup.SetInfo) {
	for _, name := range setDBNames(s) {
		if ex := s.Databases[name].ExcludedStreams; len(ex) > 0 {
			fmt.Fprintf(w, "    %s: streams left out (--exclude-stream): %s\n", name, strings.Join(ex, ", "))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func adminBackupsVerify(c *cli.Context) error {
	if err := flagsFirst(c); err != nil {
		return err
	}
	cat, err := catalogFrom(c, c.String("backup-dir"))
	if err != nil {
		return opError{op: "verify", err: err}
	}
	identities, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	cat.WithKeys(backup.Keys{Identities: identities})
	ids := c.Args().Slice()
	switch {
	case c.Bool("all") && len(ids) > 0:
		return usagef("give set ids or --all, not both")
	case c.Bool("all"):
		sets, err := cat.List(c.Context)
		if err != nil {
			return opError{op: "verify", err: err}
		}
		for _, s := range sets {
			if s.Status == backup.StatusComplete {
				ids = append(ids, s.ID)
			}
		}
	case len(ids) == 0:
		return usagef("name the sets to verify (see `flowg admin backups list`), or use --all")
	}
	failed, needKey := 0, 0
	for _, id := range ids {
		info, err := cat.Verify(c.Context, id, time.Now())
		if errors.Is(err, backup.ErrEncrypted) {
			// Not a verdict on the set: it is unread, and its label unchanged.
			needKey++
			fmt.Fprintf(c.App.Writer, "%s  %s\n", id, encryptedAdvice)
			reportOf(c).add("sets", map[string]any{"id": id, "label": "encrypted", "problem": encryptedAdvice})
			continue
		}
		if err != nil {
			return opError{op: "verify", err: err, safe: "no backup file was changed"}
		}
		line := info.Label
		if info.Problem != "" {
			line += ": " + info.Problem
			failed++
		}
		fmt.Fprintf(c.App.Writer, "%s  %s\n", id, line)
		reportOf(c).add("sets", map[string]any{"id": id, "label": info.Label, "problem": info.Problem})
	}
	badChains, lockedChains := 0, 0
	if c.Bool("all") {
		badChains, lockedChains, err = verifyJournalChains(c, cat)
		if err != nil {
			return opError{op: "verify", err: err, safe: "no backup file was changed"}
		}
	}
	if badChains > 0 {
		return opError{op: "verify", err: fmt.Errorf("%d of %d sets are bad, and %s of the journal cannot be restored to its end (see above)", failed, len(ids), countText(badChains, "chain")),
			safe: "no backup file was changed",
			next: "restore --at an instant before the damage, or from a set; the server starts a new chain at its next start if the newest chain is broken"}
	}
	if failed > 0 {
		return opError{op: "verify", err: fmt.Errorf("%d of %d sets are bad (see above)", failed, len(ids)),
			safe: "no backup file was changed; each set's label is recorded in its manifest",
			next: "take a new set (`flowg admin backups create`, or `flowg backups create` while the server runs); remove bad ones with `flowg admin backups prune` once a good one exists"}
	}
	if lockedChains > 0 {
		return opError{op: "verify", err: fmt.Errorf("%w: %d of %d sets and %s of the journal were not read (see above)", backup.ErrEncrypted, needKey, len(ids), countText(lockedChains, "chain")),
			safe: "no backup file was changed, nor any set's label",
			next: "run it again with --identity FILE or --encrypt-passphrase-file FILE"}
	}
	if needKey > 0 {
		return opError{op: "verify", err: fmt.Errorf("%w: %d of %d sets were not read (see above)", backup.ErrEncrypted, needKey, len(ids)),
			safe: "no backup file was changed, nor any set's label",
			next: "run it again with --identity FILE or --encrypt-passphrase-file FILE"}
	}
	return nil
}

func adminBackupsPrune(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	maxAge, err := retentionAgeFrom(c, "max-age")
	if err != nil {
		return err
	}
	policy := backup.Retention{Keep: c.Int("keep"), MaxAge: maxAge}
	if policy.Keep < 0 {
		return usagef("--keep %d: give a number of sets per database, 0 for no limit by count", policy.Keep)
	}
	if policy.IsZero() {
		return usagef("--keep 0 without --max-age keeps every set: give --keep N and/or --max-age DURATION")
	}
	cat, err := catalogFrom(c, c.String("backup-dir"))
	if err != nil {
		return opError{op: "prune", err: err}
	}
	if c.Bool("dry-run") {
		decisions, err := cat.PrunePlan(c.Context, policy, time.Now())
		if err != nil {
			return opError{op: "prune", err: err}
		}
		for _, d := range decisions {
			if d.Delete {
				fmt.Fprintf(c.App.Writer, "would delete %s: %s\n", prunedName(d), d.Reason)
			} else if c.Bool("verbose") {
				fmt.Fprintf(c.App.Writer, "would keep %s: %s\n", prunedName(d), d.Reason)
			}
			if d.Delete || c.Bool("verbose") {
				reportOf(c).add(prunedKind(d), map[string]any{"id": d.ID, "delete": d.Delete, "reason": d.Reason, "database": d.Journal})
			}
		}
		reportOf(c).set("dry_run", true)
		fmt.Fprintln(c.App.ErrWriter, "dry run: nothing was deleted")
		return nil
	}
	leftovers, err := cat.RemoveUnfinishedSets(time.Now())
	for _, path := range leftovers {
		fmt.Fprintf(c.App.Writer, "removed %s: an unfinished set an interrupted run left behind (untouched for over %s)\n", path, backup.UnfinishedSetAge)
	}
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warning: unfinished sets could not all be removed: %v\n", err)
	}
	deleted, err := cat.Prune(c.Context, policy, time.Now())
	for _, d := range deleted {
		fmt.Fprintf(c.App.Writer, "deleted %s: %s\n", prunedName(d), d.Reason)
		entry := map[string]any{"id": d.ID, "delete": true, "reason": d.Reason, "database": d.Journal}
		if d.Segments != "" {
			entry["segments"] = d.Segments // only these segments of the chain
		}
		reportOf(c).add(prunedKind(d), entry)
	}
	if err != nil {
		next := ""
		if errors.Is(err, backup.ErrCatalogBusy) {
			next = "a running flowg server is restoring from or verifying a set of this catalog: retry when it is done"
		}
		return opError{op: "prune", err: err, safe: fmt.Sprintf("%d sets were deleted before the error (listed above); the others are unchanged", len(deleted)), next: next}
	}
	sets, chains := 0, 0
	for _, d := range deleted {
		switch {
		case d.Journal == "":
			sets++
		case d.Segments == "": // not the trim of a chain kept
			chains++
		}
	}
	if chains > 0 {
		fmt.Fprintf(c.App.ErrWriter, "%s and %s of the journal deleted\n", countText(sets, "set"), countText(chains, "chain"))
		return nil
	}
	fmt.Fprintf(c.App.ErrWriter, "%s deleted\n", countText(sets, "set"))
	return nil
}
