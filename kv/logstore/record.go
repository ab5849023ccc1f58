package logstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// MaxRecordSize is the largest encoded record Append accepts: 1 MiB of JSON.
const MaxRecordSize = 1 << 20

// timestampField is the field of the stored JSON object that holds the time
// the store gave the record.
const timestampField = "timestamp"

// Record is one log record of a stream.
type Record struct {
	// Timestamp is the time the store appended the record, in UTC. Records of
	// a stream are ordered by it, and by append order among equal timestamps.
	Timestamp time.Time `json:"timestamp"`
	// Fields are the record's fields as the client sent them, without
	// "timestamp". Read back from the database, JSON numbers are json.Number,
	// so large integers keep every digit.
	Fields map[string]any `json:"fields"`
	// ExpiresAt is when Badger drops the record (whole seconds, UTC), or the
	// zero time when its stream had no TTL at append time.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// encodeRecord returns the stored form of fields at ts: one JSON object with
// the client's fields and "timestamp" in RFC 3339 with nanoseconds. A
// client's own "timestamp" field is replaced.
func encodeRecord(fields map[string]any, ts time.Time) ([]byte, error) {
	obj := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		obj[k] = v
	}
	obj[timestampField] = ts.UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes of JSON, limit %d", ErrTooLarge, len(b), MaxRecordSize)
	}
	return b, nil
}

// decodeFields returns the client's fields of a stored record.
func decodeFields(val []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(val))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if fields == nil {
		fields = map[string]any{}
	}
	delete(fields, timestampField)
	return fields, nil
}

// userFields returns a shallow copy of fields without "timestamp", as a
// Record returned by Append holds them.
func userFields(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if k != timestampField {
			out[k] = v
		}
	}
	return out
}

// expiresAt converts Badger's ExpiresAt (unix seconds, 0 for none).
func expiresAt(sec uint64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), 0).UTC()
}
