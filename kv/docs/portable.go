package docs

import (
	"fmt"
	"strings"
)

// ParseKey reads a raw key of the config database as the kind and name of
// a document; ok is false for a key that is not one.
func ParseKey(key []byte) (kind Kind, name string, ok bool) {
	k := string(key)
	for _, kind := range Kinds {
		if name, found := strings.CutPrefix(k, string(kind)+"/"); found && checkName(name) == nil {
			return kind, name, true
		}
	}
	return "", "", false
}

// Entry returns the raw key of document kind/name after the checks Put
// makes (kind, name, size of body); nothing is written.
func Entry(kind Kind, name string, body []byte) ([]byte, error) {
	if err := check(kind, name); err != nil {
		return nil, err
	}
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("put %s/%s: %d bytes: %w (limit %d bytes)", kind, name, len(body), ErrTooLarge, MaxBodySize)
	}
	return key(kind, name), nil
}
