// Package backup owns flowg's backups and everything done with them: the
// self-checking file format (header, checksummed frames of Badger pb.KVList,
// trailer; key frames for incremental backups), reading raw Badger backup
// streams, dumping a point-in-time snapshot of a database, verifying and
// inspecting files, restoring them by merge or by wipe, backup directories
// and their manifest, and the catalog of backup sets — in a local directory
// or an S3 bucket, optionally encrypted with age — with trust labels,
// verification, incremental chains, retention and scheduling. It never
// prints, exits or reads flags: the command line and the HTTP server are
// thin doors onto it.
package backup
