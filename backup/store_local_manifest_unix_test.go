//go:build unix

package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A link or a FIFO planted in place of a set's manifest.json makes the set
// incomplete at once: the manifest is never read outside the catalog, and
// a listing never waits on a FIFO.
func TestCatalog_ManifestLinkOrFIFOIsIncomplete(t *testing.T) {
	ctx := context.Background()
	outside := filepath.Join(t.TempDir(), "evil.json")
	evil := `{"format_version":1,"status":"complete","trigger":"manual","databases":{"logs":{"file":"logs.db"}}}`
	if err := os.WriteFile(outside, []byte(evil), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		plant func(path string) error
	}{
		{"symbolic link", func(path string) error { return os.Symlink(outside, path) }},
		{"fifo", func(path string) error { return syscall.Mkfifo(path, 0o600) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cat := OpenCatalog(t.TempDir())
			m, err := cat.Create(ctx, []Source{{Name: "logs", DB: testDB(t, 10)}}, SetOptions{Trigger: TriggerManual})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(cat.Dir(), m.ID, ManifestName)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := tt.plant(path); err != nil {
				t.Fatal(err)
			}
			done := make(chan SetInfo, 1)
			go func() {
				info, _ := cat.Get(ctx, m.ID)
				done <- info
			}()
			select {
			case info := <-done:
				if info.Label != LabelIncomplete || !strings.Contains(info.Problem, ErrNotRegularFile.Error()) {
					t.Fatalf("set with a %s for manifest: label %q, problem %q; want %q saying %q",
						tt.name, info.Label, info.Problem, LabelIncomplete, ErrNotRegularFile)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("reading a set with a %s for manifest still blocks after 5s", tt.name)
			}
			if _, err := cat.store.manifest(ctx, m.ID); !errors.Is(err, ErrNotRegularFile) {
				t.Fatalf("manifest with a %s in place: err %v, want ErrNotRegularFile", tt.name, err)
			}
		})
	}
}

// ReadManifest, which the CLI uses on a backup directory it is given, also
// refuses a link or a FIFO at once and still reports a missing manifest as
// os.ErrNotExist.
func TestReadManifest_RefusesALinkOrFIFOAtOnce(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadManifest(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no manifest: %v, want os.ErrNotExist", err)
	}
	outside := filepath.Join(t.TempDir(), "evil.json")
	if err := os.WriteFile(outside, []byte(`{"status":"complete","databases":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ManifestName)
	if err := os.Symlink(outside, path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(dir); !errors.Is(err, ErrNotRegularFile) {
		t.Fatalf("a link for manifest: %v, want ErrNotRegularFile", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadManifest(dir); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegularFile) {
			t.Fatalf("a FIFO for manifest: %v, want ErrNotRegularFile", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadManifest still waits on a FIFO after 5s")
	}
}
