package logstore

import "fmt"

// MaxNameLen is the longest stream name accepted.
const MaxNameLen = 128

// ValidName reports whether name may name a stream: 1 to MaxNameLen
// characters of [A-Za-z0-9_.-], and neither "." nor "..". Such a name never
// holds the '/' that ends it in a key, so one stream's keys never run into
// another's.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLen || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkName returns an error wrapping ErrInvalidName unless name is valid.
func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("stream %q: %w: use 1-%d characters of A-Z a-z 0-9 _ . -", name, ErrInvalidName, MaxNameLen)
	}
	return nil
}
