package logstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// StoredRecord is a record with everything that makes its key and its
// expiry, as a portable export carries it: written back with Entry it lands
// under the very same key with the same expiry, so an import is idempotent
// and a TTL does not move.
type StoredRecord struct {
	Stream string
	Time   time.Time // UTC, to the nanosecond
	Seq    uint64
	Fields map[string]any
	// ExpiresAt is the absolute expiry in whole seconds (zero: never).
	ExpiresAt time.Time
}

// ParseRecord reads a raw key, value and Badger expiry (unix seconds) of the
// logs database as a record; ok is false for a key that is not a record.
func ParseRecord(key, val []byte, expires uint64) (rec StoredRecord, ok bool, err error) {
	rest, found := strings.CutPrefix(string(key), logPrefix)
	if !found {
		return StoredRecord{}, false, nil
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 || len(rest)-slash-1 != suffixLen || checkName(rest[:slash]) != nil {
		return StoredRecord{}, false, fmt.Errorf("record key %q: not log/<stream>/<time><sequence>", key)
	}
	stream := rest[:slash]
	suffix := []byte(rest[slash+1:])
	fields, err := decodeFields(val)
	if err != nil {
		return StoredRecord{}, false, fmt.Errorf("stream %s: %w", stream, err)
	}
	return StoredRecord{
		Stream:    stream,
		Time:      time.Unix(0, int64(binary.BigEndian.Uint64(suffix))).UTC(),
		Seq:       binary.BigEndian.Uint64(suffix[8:]),
		Fields:    fields,
		ExpiresAt: expiresAt(expires),
	}, true, nil
}

// Entry returns the raw key, value and Badger expiry of r, encoded as Append
// encodes a record, after the checks Append makes (stream name, time range,
// size); nothing is written.
func (r StoredRecord) Entry() (key, val []byte, expires uint64, err error) {
	if err := checkName(r.Stream); err != nil {
		return nil, nil, 0, err
	}
	ts, ok := unixNanos(r.Time)
	if !ok {
		return nil, nil, 0, fmt.Errorf("record time %s: %w: a record's time lies between 1970 and 2262", r.Time, ErrInvalidRecord)
	}
	if !r.ExpiresAt.IsZero() {
		if r.ExpiresAt.Unix() < 1 || r.ExpiresAt.Nanosecond() != 0 {
			return nil, nil, 0, fmt.Errorf("expires_at %s: %w: use whole seconds after 1970", r.ExpiresAt, ErrInvalidRecord)
		}
		expires = uint64(r.ExpiresAt.Unix())
	}
	val, err = encodeRecord(r.Fields, time.Unix(0, int64(ts)))
	if err != nil {
		return nil, nil, 0, err
	}
	return recordKey(r.Stream, ts, r.Seq), val, expires, nil
}

// ParseStreamConfig reads a raw key and value of the logs database as a
// stream's configuration; ok is false for a key that is not one.
func ParseStreamConfig(key, val []byte) (stream string, cfg Config, ok bool, err error) {
	stream, found := strings.CutPrefix(string(key), streamPrefix)
	if !found {
		return "", Config{}, false, nil
	}
	if err := checkName(stream); err != nil {
		return "", Config{}, false, err
	}
	if err := json.Unmarshal(val, &cfg); err != nil {
		return "", Config{}, false, fmt.Errorf("config of stream %s: %w", stream, err)
	}
	return stream, cfg, true, nil
}

// StreamConfigEntry returns the raw key and value of stream's configuration
// after the checks SetTTL makes (SetTTL stores what it returns); nothing is
// written.
func StreamConfigEntry(stream string, cfg Config) (key, val []byte, err error) {
	if err := checkName(stream); err != nil {
		return nil, nil, err
	}
	if cfg.TTL < 0 || (cfg.TTL > 0 && cfg.TTL < time.Second) {
		return nil, nil, fmt.Errorf("set ttl of %s to %s: %w: use 0 or at least 1s", stream, cfg.TTL, ErrInvalidTTL)
	}
	val, err = json.Marshal(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("set ttl of %s: %w", stream, err)
	}
	return configKey(stream), val, nil
}

// FormatTTL writes a TTL as a stream's stored configuration holds it
// ("720h", "1h30m"), "" for none.
func FormatTTL(ttl time.Duration) string {
	if ttl == 0 {
		return ""
	}
	return formatDuration(ttl)
}

// RecordKeyStream reads a raw key of the logs database as a record key,
// without its value: its stream and time; ok is false for any other key.
func RecordKeyStream(key []byte) (stream string, t time.Time, ok bool) {
	rest, found := strings.CutPrefix(string(key), logPrefix)
	if !found {
		return "", time.Time{}, false
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 || len(rest)-slash-1 != suffixLen {
		return "", time.Time{}, false
	}
	ts := binary.BigEndian.Uint64([]byte(rest[slash+1 : slash+9]))
	return rest[:slash], time.Unix(0, int64(ts)).UTC(), true
}

// AfterStreamKey returns a key greater than every record key of stream and
// smaller than the record keys of any stream that sorts after it, for a scan
// that skips the rest of a stream with one seek.
func AfterStreamKey(stream string) []byte {
	return []byte(logPrefix + stream + string(rune('/'+1)))
}

// StreamTimeKey returns the smallest record key of stream at or after t
// (t before 1970 gives the stream's first key).
func StreamTimeKey(stream string, t time.Time) []byte {
	ts, ok := unixNanos(t)
	if !ok && t.Before(minTime) {
		ts = 0
	} else if !ok {
		return AfterStreamKey(stream)
	}
	return timeKey(stream, ts)
}

// KeyStream returns the stream a raw key of the logs database belongs to:
// a record's stream, or the stream a configuration key configures; ok is
// false for any other key. It reads the key only.
func KeyStream(key []byte) (stream string, ok bool) {
	if stream, _, ok := RecordKeyStream(key); ok {
		return stream, true
	}
	stream, ok = strings.CutPrefix(string(key), streamPrefix)
	return stream, ok
}
