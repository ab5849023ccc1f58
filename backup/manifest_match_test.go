package backup

import (
	"errors"
	"strings"
	"testing"
)

// TestDBEntryMatch_NamesWhatDiffers: each field a manifest records is
// compared, and the error says which one differs; of a raw Badger entry,
// which records no key count a reader can check, only the SHA-256 is.
func TestDBEntryMatch_NamesWhatDiffers(t *testing.T) {
	entry := DBEntry{File: "log.db", Format: FormatFlowg, Keys: 3, SHA256: "aaaa", ContentSum: "cccc"}
	got := Summary{Keys: 3, ContentSum: "cccc"}
	for _, tt := range []struct {
		name   string
		entry  DBEntry
		stored string
		got    Summary
		want   string // "" for a match
	}{
		{"all equal", entry, "aaaa", got, ""},
		{"key count", entry, "aaaa", Summary{Keys: 4, ContentSum: "cccc"}, "holds 4 keys, the manifest says 3"},
		{"content hash", entry, "aaaa", Summary{Keys: 3, ContentSum: "dddd"}, "content hash dddd differs from the manifest's cccc"},
		{"sha256", entry, "bbbb", got, "SHA-256 bbbb differs from the manifest's aaaa"},
		{"no content hash recorded", DBEntry{Format: FormatFlowg, Keys: 3, SHA256: "aaaa"}, "aaaa", got, ""},
		{"raw badger", DBEntry{Format: FormatBadger, Keys: 9, SHA256: "aaaa"}, "aaaa", got, ""},
		{"raw badger sha256", DBEntry{Format: FormatBadger, Keys: 9, SHA256: "zz"}, "aaaa", got, "SHA-256 aaaa differs from the manifest's zz"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entry.Match(tt.stored, tt.got)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("want a match, got %v", err)
			case tt.want != "" && (!errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("want ErrChecksum saying %q, got %v", tt.want, err)
			}
		})
	}
}
