package httpapi

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/operations"
)

// TestAllowDetached_BackupsBoundedByMaxBackupStreams: an async backup is
// refused with 429 too_many_streams while --max-backup-streams backup sets
// are being written; verifies and restores are bounded by their handlers.
func TestAllowDetached_BackupsBoundedByMaxBackupStreams(t *testing.T) {
	dir := t.TempDir()
	store, err := kv.OpenStore(kv.Dirs{Auth: filepath.Join(dir, "auth"), Config: filepath.Join(dir, "config"), Logs: filepath.Join(dir, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.SetStreamLimits(kv.StreamLimits{Max: 2})
	s := New(store, Options{BackupDir: filepath.Join(dir, "backups")})
	defer s.Stop(context.Background())

	first := s.ops.Start(operations.Start{Kind: operations.KindBackup})
	if err := s.allowDetached(operations.KindBackup); err != nil {
		t.Fatalf("one backup running of 2 allowed: %v", err)
	}
	second := s.ops.Start(operations.Start{Kind: operations.KindBackup, Trigger: "scheduled"})
	var ae *apiError
	if err := s.allowDetached(operations.KindBackup); !errors.As(err, &ae) || ae.status != http.StatusTooManyRequests || ae.code != CodeTooManyStreams {
		t.Fatalf("third backup: %v, want 429 too_many_streams", err)
	}
	if err := s.allowDetached(operations.KindVerify); err != nil {
		t.Fatalf("a verify is bounded by its own slots, not by backups: %v", err)
	}
	second.Finish(context.Background(), "")
	if err := s.allowDetached(operations.KindBackup); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	first.Finish(context.Background(), "")
}
