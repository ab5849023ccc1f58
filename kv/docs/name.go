package docs

import (
	"fmt"

	"github.com/flowg-backup/flowg/kv"
)

// MaxNameLen is the longest document name accepted.
const MaxNameLen = kv.MaxKeyNameLen

// checkName returns an error wrapping ErrInvalidName unless name may name a
// document (kv.ValidKeyName), so it is also safe as a URL path segment or a
// file name.
func checkName(name string) error {
	if !kv.ValidKeyName(name) {
		return fmt.Errorf("name %q: %w: use 1-%d characters of A-Z a-z 0-9 _ . -", name, ErrInvalidName, MaxNameLen)
	}
	return nil
}
