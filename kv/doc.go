// Package kv owns the three Badger databases of flowg (auth, config, logs):
// their names, opening them read-write or read-only with the options flowg
// always uses, swapping a database directory for a freshly restored one, and
// the per-database gate that lets a restore take one database exclusively
// while the other two keep serving.
package kv
