package logstore

import "errors"

// ErrInvalidName is returned by every Store method given a stream name that is
// empty, longer than MaxNameLen, holds a character outside [A-Za-z0-9_.-], or
// is "." or "..". Nothing is read or written.
var ErrInvalidName = errors.New("invalid stream name")

// ErrInvalidTTL is returned by SetTTL for a negative TTL or one under a
// second (Badger keeps expiry times in whole seconds); 0 removes the TTL.
var ErrInvalidTTL = errors.New("invalid stream ttl")

// ErrInvalidRange is returned by Query when both bounds are set and to is
// before from.
var ErrInvalidRange = errors.New("invalid time range")

// ErrInvalidLimit is returned by Query for a negative limit.
var ErrInvalidLimit = errors.New("invalid limit")

// ErrInvalidRecord is returned by Append when a record cannot be encoded as
// JSON (a channel, a function, NaN); nothing of that call is written.
var ErrInvalidRecord = errors.New("invalid log record")

// ErrTooLarge is returned by Append when one record encodes to more than
// MaxRecordSize bytes; nothing of that call is written.
var ErrTooLarge = errors.New("log record too large")

// ErrClock is returned by Append when the store's clock reads a time that
// unix nanoseconds cannot hold (before 1970 or after 2262).
var ErrClock = errors.New("clock out of range")
