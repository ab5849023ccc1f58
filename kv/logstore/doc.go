// Package logstore owns the log records of flowg's logs database and the
// per-stream configuration that goes with them. A record is stored under
// "log/<stream>/" followed by its 8-byte big-endian unix-nanosecond timestamp
// and an 8-byte big-endian sequence number, so the records of a stream sort
// by time and a time-range query is one range scan; the value is the record
// as a JSON object. A stream's retention TTL lives under "stream/<stream>"
// and is carried by each record as Badger's ExpiresAt, which is what backup
// and restore preserve and what makes Badger drop the record when it expires.
package logstore
