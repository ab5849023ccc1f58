// Package export moves flowg's data in and out as JSON lines: one object
// per line, in a versioned schema at the level of the domain (roles, users,
// pipelines, transformers, alerts, streams, log records), not of raw Badger
// keys, so that a file can be read, reviewed in git, fed to other tools and
// imported into another flowg instance or version.
//
// Every line carries "v" (Version) and "kind"; see schema.go for the fields
// of each kind. Users never carry tokens, and their password hashes only when
// the exporter asks for secrets. Log records carry their stream, time,
// sequence number and absolute expiry, so an import writes each record back
// under the key it had, with the expiry it had: importing a file twice
// changes nothing and a TTL does not move.
//
// Export reads a live database (ExportDB) or a backup file (ExportBackup)
// and writes lines in key order, database by database, so two exports of the
// same state are identical line for line. Import checks a whole file
// (CheckFile) before it writes anything, then merges it (Import); Run is
// the whole import use case (check, hold, safety copies, merge, report with
// the undo). The doors, `flowg admin export|import`, GET
// /api/v1/export/{db} and POST /api/v1/import/{db}, only parse flags and
// render results.
package export
