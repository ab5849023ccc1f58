package main

import "github.com/urfave/cli/v2"

// Client commands on the backup catalog of a running server: the sets it
// takes on its schedule or on request (POST /api/v1/backups...). This file
// holds the commands and their help; their work is in client_backups_list.go
// (list, and choosing a set), client_backups_create.go (create, verify),
// client_backups_download.go, client_backups_restore.go and
// client_backups_delete.go.

func clientBackupsCommand() *cli.Command {
	idArg := "(--latest | ID)"
	return &cli.Command{
		Name:   "backups",
		Action: groupAction,
		Usage:  "list, create, verify, download, restore and delete the backup sets of a running server",
		Description: `A running server keeps backup sets in its catalog (flowg serve --backup-dir):
the sets it takes on its --backup-schedule, those asked for with
'flowg backups create', and the pre_restore safety snapshots every restore
takes. Each set is listed with a trust label: restore-verified; created, not
restore-verified; verify failed; incomplete; running. These commands talk to
the server (--server, --token or FLOWG_TOKEN); 'flowg admin backups' reads a
catalog directory directly.

Examples:
   flowg backups create --verify && flowg backups list
   flowg backups verify --latest
   flowg backups download --latest --backup-dir ./drill
   flowg backups restore --only config --wipe 20261122T020000Z-3fa2c1
   flowg backups delete 20261122T020000Z-3fa2c1`,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the server's backup sets, newest first, with their trust labels",
				UsageText: "flowg backups list [--server URL] [--token TOKEN] [--json]",
				Description: `Prints one line per set: id, creation time, trigger (manual, scheduled,
pre_restore), databases, size and trust label, with the reason a set is not
trusted. --json prints the sets as 'flowg admin backups list --json' does.
Nothing is changed.

The token needs the backup scopes of at least one database: read_acls; or
read_pipelines, read_transformers and read_alerts; or read_streams.

Examples:
   flowg backups list --server http://localhost:5080
   flowg backups list --json | jq -r '.[] | select(.label == "restore-verified") | .id' | head -1`,
				Flags:  []cli.Flag{serverFlag(), caCertFlag(), tokenFlag(), &cli.BoolFlag{Name: "json", Usage: "print the sets as JSON"}},
				Action: clientBackupsList,
			},
			{
				Name:      "create",
				Usage:     "take a backup set now, into the server's catalog",
				UsageText: "flowg backups create [--server URL] [--token TOKEN] [--only auth,config,logs] [--verify] [--json]",
				Description: `Asks the server to write a backup set of its databases now (trigger manual)
while it keeps serving; with --verify the server then restores every file
into a scratch database to prove it restores, and the set is labelled
restore-verified or verify failed. The server's retention (--backup-keep,
--backup-max-age) runs afterwards and may delete older sets, never the newest
restore-verified one. The databases are only read. Exit code 1 when the set
could not be written or, with --verify, failed its verification.

The token needs, per database backed up:
   auth    read_acls
   config  read_pipelines, read_transformers, read_alerts
   logs    read_streams

Examples:
   flowg backups create --verify
   flowg backups create --only logs,config`,
				Flags: []cli.Flag{serverFlag(), caCertFlag(), tokenFlag(), onlyFlag(),
					&cli.BoolFlag{Name: "verify", Usage: "verify the set right after it is written"},
					&cli.BoolFlag{Name: "json", Usage: "print the server's answer as JSON"}},
				Action: clientBackupsCreate,
			},
			{
				Name:      "verify",
				Usage:     "prove a set restores: every checksum and a load into a scratch database",
				UsageText: "flowg backups verify [--server URL] [--token TOKEN] [--json] " + idArg,
				Description: `The server reads every file of the set, checks every checksum and its
SHA-256 against the manifest, and loads it into a scratch database, comparing
key counts and content hashes. The result is recorded in the set's manifest:
the set is then listed restore-verified, or verify failed with the error.
--latest verifies the newest complete set. Only the manifest is written.
Exit code 1 when the set fails.

The token needs the backup scopes of every database of the set (see
'flowg backups create --help').

Examples:
   flowg backups verify --latest
   flowg backups verify 20261122T020000Z-3fa2c1`,
				Flags:  []cli.Flag{serverFlag(), caCertFlag(), tokenFlag(), backupsLatestFlag("the newest complete set"), &cli.BoolFlag{Name: "json", Usage: "print the set as JSON"}},
				Action: clientBackupsVerify,
			},
			withJSONReport(&cli.Command{
				Name:      "download",
				Usage:     "download the files of a set into a directory, verified locally",
				UsageText: "flowg backups download [--server URL] [--token TOKEN] --backup-dir DIR [--only auth,config,logs] " + idArg,
				Description: `Downloads each file of the set into a temporary 0600 file in DIR (created
0700), checks every checksum as it arrives and the SHA-256 against the set's
manifest, then loads it into a scratch database. Only when every file
verified are they renamed into place as DIR/auth.db, DIR/config.db and
DIR/log.db and DIR/manifest.json written, as 'flowg backup' does, so a
failed run leaves earlier files in DIR intact; 'flowg admin restore' and
'flowg restore' read DIR. --latest takes the newest restore-verified set
(holding the databases of --only). Nothing on the server is changed.

The token needs, per database downloaded: read_acls (auth); read_pipelines,
read_transformers and read_alerts (config); read_streams (logs).

Examples:
   flowg backups download --latest --backup-dir ./drill
   flowg backups download --backup-dir /mnt/offsite/flowg --only logs 20261122T020000Z-3fa2c1`,
				Flags: []cli.Flag{serverFlag(), caCertFlag(), tokenFlag(), backupsLatestFlag("the newest restore-verified set"), onlyFlag(),
					&cli.StringFlag{Name: "backup-dir", Value: "./backup", Usage: "directory to write the files into (created 0700)"}},
				Action: clientBackupsDownload,
			}),
			withJSONReport(&cli.Command{
				Name:      "restore",
				Usage:     "restore the server's databases from a set of its catalog",
				UsageText: "flowg backups restore [--server URL] [--token TOKEN] [--only auth,config,logs] [--wipe] [--no-safety-snapshot] [--discard-previous] [--skip-backup-check] [--dry-run] " + idArg,
				Description: `The server checks every file of the set before the first database changes,
then restores each database as an upload to POST /api/v1/restore/{db} is
restored: a safety snapshot (a pre_restore set) of the database first, then
a merge (every key of the set overwrites the database's value; keys the set
lacks are kept) or, with --wipe, a rebuild that afterwards holds exactly the
set's keys (the previous directory is kept aside on the server). The command
prints one command that undoes the restore. --latest takes the newest
restore-verified set (holding the databases of --only), never a pre_restore
safety set; sets labelled verify failed or incomplete are refused.

With --dry-run the server checks each file of the set whole and says what
the restore would add, overwrite and (with --wipe) remove; it writes nothing
and keeps no safety snapshot.

--no-safety-snapshot and --discard-previous (with --wipe) turn a safety copy
off; the server refuses them unless its catalog holds a restore-verified set
of each database, and --skip-backup-check overrides that with a warning.

The token needs, per database restored:
   auth    write_acls
   config  write_pipelines, write_transformers, write_alerts
   logs    write_streams

Examples:
   flowg backups restore --latest --only config
   flowg backups restore --wipe 20261122T020000Z-3fa2c1
   flowg backups restore --only logs --wipe 20261122T093012Z-0b9e44   # undo: restore a pre_restore set`,
				Flags: []cli.Flag{serverFlag(), caCertFlag(), tokenFlag(), backupsLatestFlag("the newest restore-verified set"), onlyFlag(),
					&cli.BoolFlag{Name: "wipe", Usage: "destructive: afterwards each database holds exactly the set's keys"},
					&cli.BoolFlag{Name: "no-safety-snapshot", Usage: "take no pre_restore set first (needs a restore-verified set, or --skip-backup-check)"},
					&cli.BoolFlag{Name: "discard-previous", Usage: "with --wipe, delete the previous database directory instead of keeping it aside"},
					&cli.BoolFlag{Name: "skip-backup-check", Usage: "allow --no-safety-snapshot / --discard-previous without a restore-verified set"},
					dryRunFlag(), backupsAtFlag()},
				Action: clientBackupsRestore,
			}),
			clientBackupsDeleteCommand(),
		},
	}
}

func backupsLatestFlag(what string) cli.Flag {
	return &cli.BoolFlag{Name: "latest", Usage: "use " + what + " instead of naming an ID"}
}
