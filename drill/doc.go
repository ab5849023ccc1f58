// Package drill runs restore drills: a set of the backup catalog is
// restored into a scratch directory, served by a real flowg server (a
// child process of the same binary) on a loopback port, checked against
// its manifest, then removed, and the drill is recorded in the catalog
// with its RTO (restore start to serving), RPO (age of the restored data)
// and result. `flowg admin drill` and the server's --backup-drill
// schedule both call Run; it never prints, exits or reads flags.
package drill
