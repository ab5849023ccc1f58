package backup

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestVerifyFile_LoadsWhatRestoreRestores checks that a full verification
// (checksums and a load into a scratch database) accepts every good file a
// restore accepts, large values included, in both file formats.
func TestVerifyFile_LoadsWhatRestoreRestores(t *testing.T) {
	tests := []struct {
		name    string
		content dbContent
		format  FileFormat
	}{
		{"small values, flowg format", generated("k", 500, 200, 5), FormatFlowg},
		{"small values, raw Badger stream", generated("k", 500, 200, 5), FormatBadger},
		{"value over 1 MiB, flowg format", dbContent{"big": {Value: strings.Repeat("x", 3<<20/2)}, "small": {Value: "s"}}, FormatFlowg},
		{"value over 1 MiB, raw Badger stream", dbContent{"big": {Value: strings.Repeat("x", 3<<20/2)}, "small": {Value: "s"}}, FormatBadger},
		{"TTL and UserMeta", dbContent{"ttl": {Value: "t", UserMeta: 7, ExpiresAt: future(time.Hour)}}, FormatFlowg},
		{"empty database", dbContent{}, FormatFlowg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := openDiskDB(t, filepath.Join(t.TempDir(), "src"))
			put(t, src, tt.content)
			path := filepath.Join(t.TempDir(), "log.db")
			sum := dumpFile(t, src, "logs", path, DumpOptions{Format: tt.format})
			closeDB(t, src)

			for _, scratch := range []string{"", t.TempDir()} {
				_, got, err := VerifyFile(t.Context(), path, VerifyOptions{ReadOptions: ReadOptions{Database: "logs"}, Load: true, ScratchDir: scratch})
				if err != nil {
					t.Fatalf("VerifyFile (scratch dir %q): %v", scratch, truncateErr(err))
				}
				if got.Keys != sum.Keys {
					t.Fatalf("VerifyFile counts %d keys, the writer %d", got.Keys, sum.Keys)
				}
			}
			db := openDiskDB(t, filepath.Join(t.TempDir(), "db"))
			defer closeDB(t, db)
			if _, err := MergeFile(t.Context(), db, path, RestoreOptions{Database: "logs", TmpDir: t.TempDir()}); err != nil {
				t.Fatalf("MergeFile: %v", err)
			}
		})
	}
}

// truncateErr keeps failure output readable when an error embeds a value.
func truncateErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestRestore_RefusesFileWithUnsortedOrDuplicateKeys restores well-checksummed
// files whose records are out of key order, which Dump never writes. Verify
// calls them corrupt; both restore modes must refuse them too, before writing.
func TestRestore_RefusesFileWithUnsortedOrDuplicateKeys(t *testing.T) {
	tests := []struct {
		name string
		recs []fileRecord
	}{
		{"keys out of order", []fileRecord{{key: "b", value: "1"}, {key: "a", value: "2"}}},
		{"same key twice", []fileRecord{{key: "a", value: "first", version: 5}, {key: "a", value: "second", version: 5}}},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "auth.db")
		writeFile(t, path, "auth", tt.recs)
		t.Run("verify/"+tt.name, func(t *testing.T) {
			if _, _, err := VerifyFile(t.Context(), path, VerifyOptions{Load: true}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("VerifyFile: err = %v, want %v", err, ErrCorrupt)
			}
		})
		for _, mode := range restoreModes {
			// A panic in StreamWriter's goroutines cannot be recovered: run
			// each restore in a child process so it fails this test only.
			t.Run(mode.name+"/"+tt.name, inSubprocess(func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "db")
				db := openDiskDB(t, dir)
				put(t, db, dbContent{"a": {Value: "target"}})
				before := everyVersion(t, db)
				_, err := mode.run(t, dir, db, path, RestoreOptions{Database: "auth"})
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("err = %v, want %v", err, ErrCorrupt)
				}
				if after := everyVersionOfDir(t, dir); strings.Join(before, "\n") != strings.Join(after, "\n") {
					t.Fatalf("target changed:\nbefore %q\nafter  %q", before, after)
				}
			}))
		}
	}
}

// childTestEnv names, in a child test process, the one test it runs.
const childTestEnv = "FLOWG_BACKUP_CHILD_TEST"

// inSubprocess returns a test function that runs body in a child copy of
// the test binary restricted to this test, and reports the child's failure,
// panic or timeout with its output.
func inSubprocess(body func(t *testing.T)) func(t *testing.T) {
	return func(t *testing.T) {
		if os.Getenv(childTestEnv) == t.Name() {
			body(t)
			return
		}
		parts := strings.Split(t.Name(), "/")
		for i, p := range parts {
			parts[i] = "^" + regexp.QuoteMeta(p) + "$"
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+strings.Join(parts, "/"), "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childTestEnv+"="+t.Name())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child test process failed (%v):\n%s", err, lastLines(string(out), 40))
		}
		if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
			t.Fatalf("child test process did not run %s:\n%s", t.Name(), lastLines(string(out), 40))
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
