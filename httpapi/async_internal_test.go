package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/auth"
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

	reader := s.echo.NewContext(httptest.NewRequest(http.MethodPost, "/api/v1/backups?async=true", nil), httptest.NewRecorder())
	reader.Set(keyPrincipal, auth.Principal{User: "ann", Scopes: auth.NewScopeSet(auth.ScopeReadStreams)})
	sender := s.echo.NewContext(httptest.NewRequest(http.MethodPost, "/api/v1/backups?async=true", nil), httptest.NewRecorder())
	sender.Set(keyPrincipal, auth.Principal{User: "bob", Scopes: auth.NewScopeSet(auth.ScopeSendLogs)})
	first := s.ops.Start(operations.Start{Kind: operations.KindBackup})
	if err := s.allowDetached(reader, operations.KindBackup); err != nil {
		t.Fatalf("one backup running of 2 allowed: %v", err)
	}
	second := s.ops.Start(operations.Start{Kind: operations.KindBackup, Trigger: "scheduled"})
	var ae *apiError
	if err := s.allowDetached(reader, operations.KindBackup); !errors.As(err, &ae) || ae.status != http.StatusTooManyRequests || ae.code != CodeTooManyStreams {
		t.Fatalf("third backup: %v, want 429 too_many_streams", err)
	}
	// Without a backup scope, the caller learns nothing of the backups running.
	if err := s.allowDetached(sender, operations.KindBackup); !errors.As(err, &ae) || ae.status != http.StatusForbidden {
		t.Fatalf("async backup by a send_logs token while 2 run: %v, want 403", err)
	}
	if err := s.allowDetached(reader, operations.KindVerify); err != nil {
		t.Fatalf("a verify is bounded by its own slots, not by backups: %v", err)
	}
	second.Finish(context.Background(), "")
	if err := s.allowDetached(reader, operations.KindBackup); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	first.Finish(context.Background(), "")
}

// TestTracked_RefusalsAnswerAtOnceAndSlowHandlersDetachAfterAWhile: a
// detached handler that refuses before starting work is answered as it
// answered, leaving no operation; one that never asks for its operation
// context is answered 202 after asyncDetachAfter all the same, and its
// operation records its answer.
func TestTracked_RefusalsAnswerAtOnceAndSlowHandlersDetachAfterAWhile(t *testing.T) {
	dir := t.TempDir()
	store, err := kv.OpenStore(kv.Dirs{Auth: filepath.Join(dir, "auth"), Config: filepath.Join(dir, "config"), Logs: filepath.Join(dir, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s := New(store, Options{BackupDir: filepath.Join(dir, "backups")})
	defer s.Stop(context.Background())
	about := func(echo.Context) ([]string, string) { return []string{"logs"}, "" }
	call := func(h echo.HandlerFunc) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		c := s.echo.NewContext(httptest.NewRequest(http.MethodPost, "/x?async=true", nil), rec)
		c.Set(keyPrincipal, auth.Principal{User: "ann"})
		if err := s.tracked(operations.KindVerify, true, about, h)(c); err != nil {
			s.handleError(err, c)
		}
		return rec
	}

	refused := call(func(c echo.Context) error { return badRequest("no such thing", "ask for another") })
	if refused.Code != http.StatusBadRequest || !strings.Contains(refused.Body.String(), "no such thing") || s.ops.Running("") != 0 {
		t.Fatalf("refusal answered %d %s", refused.Code, refused.Body)
	}
	start := time.Now()
	slow := call(func(c echo.Context) error {
		time.Sleep(asyncDetachAfter + 300*time.Millisecond)
		return c.JSON(http.StatusOK, map[string]string{"label": "restore-verified"})
	})
	if slow.Code != http.StatusAccepted || time.Since(start) < asyncDetachAfter {
		t.Fatalf("slow handler answered %d after %s, want 202 after %s", slow.Code, time.Since(start), asyncDetachAfter)
	}
	var accepted struct {
		OperationID string `json:"operation_id"`
	}
	if err := json.Unmarshal(slow.Body.Bytes(), &accepted); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := s.ops.Get(context.Background(), accepted.OperationID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != operations.StateRunning {
			if r.State != operations.StateSucceeded || r.Who != "ann" || !strings.Contains(string(r.Result), "restore-verified") {
				t.Fatalf("slow operation ended %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slow operation never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ops, _ := s.ops.List(context.Background(), "", 10)
	if len(ops) != 1 {
		t.Fatalf("history = %+v, want the slow operation only", ops)
	}
}
