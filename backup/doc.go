// Package backup owns flowg's backup files and everything done with them:
// the self-checking file format (header, checksummed frames of Badger
// pb.KVList, trailer), reading raw Badger backup streams, dumping a
// point-in-time snapshot of a database, verifying and inspecting a file,
// restoring it by merge or by wipe, and the backup directories with their
// manifest. It never prints, exits or reads flags: the command line and the
// HTTP server are thin doors onto it.
package backup
