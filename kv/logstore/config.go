package logstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Config is the configuration of one stream, stored as JSON under
// "stream/<name>": {"ttl":"720h"}, or {} without a TTL.
type Config struct {
	// TTL is how long a record appended to the stream is kept; 0 keeps it
	// forever. It applies to records appended after it was set.
	TTL time.Duration
}

// configJSON is the stored form of Config.
type configJSON struct {
	TTL string `json:"ttl,omitempty"`
}

// MarshalJSON writes {"ttl":"720h"}, or {} when there is no TTL.
func (c Config) MarshalJSON() ([]byte, error) {
	var j configJSON
	if c.TTL != 0 {
		j.TTL = formatDuration(c.TTL)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes; a missing or empty "ttl" means
// no TTL.
func (c *Config) UnmarshalJSON(b []byte) error {
	var j configJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	c.TTL = 0
	if j.TTL == "" {
		return nil
	}
	d, err := time.ParseDuration(j.TTL)
	if err != nil {
		return fmt.Errorf("parse ttl: %w", err)
	}
	c.TTL = d
	return nil
}

// formatDuration writes d as time.Duration.String does, without the zero
// minutes and seconds it appends to whole hours: "720h", "1h30m", "90s" ->
// "1m30s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// SetTTL sets how long records appended to stream from now on are kept; 0
// removes the TTL. Records already written keep the expiry they were written
// with. The stream is listed by ListStreams from then on, even without
// records. It returns once the change is committed.
func (s *Store) SetTTL(stream string, ttl time.Duration) error {
	key, val, err := StreamConfigEntry(stream, Config{TTL: ttl})
	if err != nil {
		return err
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(key, val)
	})
	if err != nil {
		return fmt.Errorf("set ttl of %s: %w", stream, err)
	}
	return nil
}

// StreamConfig returns the configuration of stream; a stream never
// configured (or unknown) gets the zero Config, without error.
func (s *Store) StreamConfig(stream string) (Config, error) {
	if err := checkName(stream); err != nil {
		return Config{}, err
	}
	var cfg Config
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(configKey(stream))
		if err != nil {
			return err
		}
		return item.Value(func(val []byte) error {
			return json.Unmarshal(val, &cfg)
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("read config of stream %s: %w", stream, err)
	}
	return cfg, nil
}
