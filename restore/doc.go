// Package restore owns the restore use case that both doors share: the
// one Request a restore is described by (validated once), the guard on a
// restore that gives up a safety copy, the warnings it answers with (the
// users and tokens a merge brought back, worded once), and the one Result
// the server encodes, the client decodes and the offline command prints.
// The offline executor (Offline: merge or wipe the databases of a stopped
// server in locked directories) lives here too; the file format, the merge,
// the wipe build and the catalog are backup's, the directories and their
// swap kv's. It never prints, exits or reads flags.
package restore
