package backup

import (
	"fmt"
	"path"
	"slices"

	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/logstore"
)

// Streams left out of backups (--exclude-stream): the records and the
// configuration of every stream of the logs database whose name matches one
// of the patterns (path.Match globs) are not written. The manifest entry of
// the logs database records the patterns (excluded_streams); a change of
// them starts a new incremental chain.

// CheckExcludeStreams returns an error naming the first malformed pattern.
func CheckExcludeStreams(patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return fmt.Errorf("stream pattern is empty: give a stream name or a glob such as 'debug-*'")
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("stream pattern %q: %w", p, err)
		}
	}
	return nil
}

// excludesFor returns the patterns that apply to database db: patterns
// only ever apply to the logs database.
func excludesFor(db string, patterns []string) []string {
	if db != string(kv.Logs) || len(patterns) == 0 {
		return nil
	}
	return slices.Clone(patterns)
}

// streamSkipper returns a function reporting whether a key of the logs
// database belongs to an excluded stream. It remembers the last stream it
// decided on (records of a stream are adjacent), so a dump matches the
// patterns once per stream and range; one skipper per goroutine.
func streamSkipper(patterns []string) func(key []byte) bool {
	if len(patterns) == 0 {
		return nil
	}
	last, lastSkip := "", false
	return func(key []byte) bool {
		stream, ok := logstore.KeyStream(key)
		if !ok {
			return false
		}
		if stream == last && last != "" {
			return lastSkip
		}
		last, lastSkip = stream, false
		for _, p := range patterns {
			if m, _ := path.Match(p, stream); m {
				lastSkip = true
				break
			}
		}
		return lastSkip
	}
}
