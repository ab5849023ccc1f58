package backup

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// A backup of records that compress a thousandfold is small on disk and
// large once restored: the guard judges it by its records (the trailer's
// logical size), before anything is written, and the reader stops at the
// limit for files whose trailer cannot be read first.
func TestSizeGuard_RefusesByLogicalSizeBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	zeros := strings.Repeat("\x00", 4<<20)
	src := filepath.Join(dir, "src")
	createDB(t, src, dbContent{"a": {Value: zeros}, "b": {Value: zeros}, "c": {Value: zeros}})
	db := openDiskDB(t, src)
	file := filepath.Join(dir, "config.db")
	sum := dumpFile(t, db, "config", file, DumpOptions{})
	closeDB(t, db)
	if sum.FileBytes > 64<<10 {
		t.Fatalf("the file of 12 MiB of zeros is %d bytes, want a small one", sum.FileBytes)
	}
	target := filepath.Join(dir, "data", "config") // does not exist yet
	const free = 1 << 40
	plenty := func(string) (uint64, error) { return free, nil }
	tests := []struct {
		name     string
		guard    SizeGuard
		want     error
		wantText string
	}{
		{"under the limit", SizeGuard{MaxBytes: 16 << 20, Dir: target, freeBytes: plenty}, nil, ""},
		{"no limit", SizeGuard{Dir: target, freeBytes: plenty}, nil, ""},
		{"over the limit", SizeGuard{MaxBytes: 8 << 20, Dir: target, freeBytes: plenty}, ErrTooLarge, "12 MiB"},
		{"over the free space", SizeGuard{Dir: target, freeBytes: func(string) (uint64, error) { return 40 << 20, nil }}, ErrNoSpace, "40 MiB free"},
		{"room for the records", SizeGuard{Dir: target, freeBytes: func(string) (uint64, error) { return 100 << 20, nil }}, nil, ""},
		{"no room for a copy of the database beside", SizeGuard{Dir: target, Beside: 50 << 20, freeBytes: func(string) (uint64, error) { return 100 << 20, nil }}, ErrNoSpace, "100 MiB free"},
		{"free space unknown", SizeGuard{Dir: target, freeBytes: func(string) (uint64, error) { return 0, errors.New("no statfs") }}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.guard.CheckFile(t.Context(), FileOpener(file))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CheckFile: %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("CheckFile: %q does not say %q", err, tt.wantText)
			}
			if err := tt.guard.Check(sum.Bytes); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Check(%d): %v, want %v", sum.Bytes, err, tt.want)
			}
		})
	}

	// A restore given the limit stops reading there and writes nothing.
	res, err := MergeFile(t.Context(), nil, file, RestoreOptions{Database: "config", MaxBytes: 8 << 20})
	if !errors.Is(err, ErrTooLarge) || res.Written != 0 {
		t.Errorf("MergeFile with MaxBytes 8 MiB: %v, %d written; want ErrTooLarge, 0", err, res.Written)
	}
	staged := filepath.Join(dir, "staged")
	if _, err := BuildWipeFrom(t.Context(), staged, FileOpener(file), RestoreOptions{Database: "config", MaxBytes: 8 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("BuildWipeFrom with MaxBytes 8 MiB: %v, want ErrTooLarge", err)
	}
	if got := siblings(t, staged); len(got) != 0 {
		t.Errorf("the refused wipe left %v", got)
	}
}
