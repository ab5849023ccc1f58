package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutput_OneFileReadsTheSameSizeAndCountEverywhere: the backup, the
// restore and the verification of one file print the same size, that of
// the file (restore printed the records' logical size: "982 B" on backup,
// "1.1 KiB" on restore), and one key is "1 key", never "1 keys".
func TestOutput_OneFileReadsTheSameSizeAndCountEverywhere(t *testing.T) {
	dbs := dbsWithKeys(t, 1)
	bk := filepath.Join(t.TempDir(), "backup")
	backedUp := runFlowg(t, "", append([]string{"admin", "backup", "--backup-dir", bk}, dbs...)...)
	st, err := os.Stat(filepath.Join(bk, "log.db"))
	if err != nil {
		t.Fatalf("%v\n%s", err, backedUp)
	}
	size := sizeText(st.Size())
	restored := runFlowg(t, "", append([]string{"admin", "restore", "--backup-dir", bk, "--catalog-dir", filepath.Join(t.TempDir(), "catalog")}, dbs...)...)
	verified := runFlowg(t, "", "admin", "verify", "--backup-dir", bk)
	for _, tt := range []struct {
		name string
		r    cliResult
		want string
	}{
		{"admin backup", backedUp, "logs          1 key  " + strings.Repeat(" ", 10-len(size)) + size + "  "},
		{"admin restore", restored, "logs          1 key  " + strings.Repeat(" ", 10-len(size)) + size + "  "},
		{"admin verify", verified, "log.db     ok      logs, 1 key, read ts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.r.code != exitOK || !strings.Contains(tt.r.stdout, tt.want) || strings.Contains(tt.r.stdout+tt.r.stderr, "1 keys") {
				t.Errorf("want exit 0 and %q in stdout (the file is %d bytes), never \"1 keys\"; got\n%s", tt.want, st.Size(), tt.r)
			}
		})
	}
}

func TestCountText_PluralUnlessOne(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0 keys"}, {1, "1 key"}, {2, "2 keys"}} {
		if got := countText(tt.n, "key"); got != tt.want {
			t.Errorf("countText(%d, key) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := sizeText(int64(1126)); got != "1.1 KiB" {
		t.Errorf("sizeText(1126) = %q, want 1.1 KiB", got)
	}
}
