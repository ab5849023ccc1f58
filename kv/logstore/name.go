package logstore

import (
	"fmt"

	"github.com/flowg-backup/flowg/kv"
)

// MaxNameLen is the longest stream name accepted.
const MaxNameLen = kv.MaxKeyNameLen

// checkName returns an error wrapping ErrInvalidName unless name may name a
// stream (kv.ValidKeyName). Such a name never holds the '/' that ends it in
// a key, so one stream's keys never run into another's.
func checkName(name string) error {
	if !kv.ValidKeyName(name) {
		return fmt.Errorf("stream %q: %w: use 1-%d characters of A-Z a-z 0-9 _ . -", name, ErrInvalidName, MaxNameLen)
	}
	return nil
}
