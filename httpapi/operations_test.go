package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/operations"
)

// operationsOf lists the history with authz.
func (e *env) operationsOf(query, authz string) ([]operations.Record, *string) {
	e.t.Helper()
	var list struct {
		Operations []operations.Record `json:"operations"`
		NextBefore *string             `json:"next_before"`
	}
	r := e.do("GET", "/api/v1/operations"+query, authz, nil, "").must(e.t, http.StatusOK)
	if err := json.Unmarshal(r.body, &list); err != nil || list.Operations == nil {
		e.t.Fatalf("operations answer %s: %v", r, err)
	}
	return list.Operations, list.NextBefore
}

// startAsync sends an ?async=true request and returns its operation id.
func (e *env) startAsync(path string) string {
	e.t.Helper()
	r := e.do("POST", path, e.root, nil, "").must(e.t, http.StatusAccepted)
	id, _ := r.json(e.t)["operation_id"].(string)
	if !operations.ValidID(id) || r.header.Get("Location") != "/api/v1/operations/"+id {
		e.t.Fatalf("async answer %s (Location %q) has no operation id", r, r.header.Get("Location"))
	}
	return id
}

// waitOperation polls operation id until it is no longer running.
func (e *env) waitOperation(id string) operations.Record {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rec operations.Record
		r := e.do("GET", "/api/v1/operations/"+id, e.root, nil, "").must(e.t, http.StatusOK)
		if err := json.Unmarshal(r.body, &rec); err != nil {
			e.t.Fatalf("operation answer %s: %v", r, err)
		}
		if rec.State != operations.StateRunning {
			return rec
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("operation %s still running after 30s: %s", id, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOperations_SyncAndAsyncRunsAreRecordedNewestFirst(t *testing.T) {
	e := newEnv(t, nil)
	e.do("POST", "/api/v1/streams/app/logs", e.root, strings.NewReader(`{"records":[{"m":"one"},{"m":"two"}]}`), "").must(t, 200)
	first := e.createSet("")

	ops, next := e.operationsOf("", e.root)
	if len(ops) != 1 || next != nil {
		t.Fatalf("after one set: %d operations (next %v), want 1", len(ops), next)
	}
	b := ops[0]
	if b.Kind != "backup" || b.Trigger != "manual" || b.Who != "root" || b.State != "succeeded" || b.SetID == nil || *b.SetID != first.ID ||
		len(b.Databases) != 3 || b.EndedAt == nil || b.Error != nil || b.Progress == nil || b.Progress.DoneBytes == 0 {
		t.Fatalf("record of a synchronous set = %+v", b)
	}

	backupOp := e.waitOperation(e.startAsync("/api/v1/backups?async=true&verify=true&only=logs"))
	if backupOp.State != "succeeded" || backupOp.SetID == nil || len(backupOp.Databases) != 1 || backupOp.Databases[0] != "logs" {
		t.Fatalf("async backup = %+v", backupOp)
	}
	var result struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	}
	if err := json.Unmarshal(backupOp.Result, &result); err != nil || result.ID != *backupOp.SetID || result.Label != backup.LabelRestoreVerified {
		t.Fatalf("async backup's result = %s (%v), want the set, restore-verified", backupOp.Result, err)
	}
	verifyOp := e.waitOperation(e.startAsync("/api/v1/backups/" + first.ID + "/verify?async=true"))
	if verifyOp.Kind != "verify" || verifyOp.State != "succeeded" || *verifyOp.SetID != first.ID || verifyOp.Progress == nil || verifyOp.Progress.DoneBytes == 0 {
		t.Fatalf("async verify = %+v", verifyOp)
	}
	restoreOp := e.waitOperation(e.startAsync("/api/v1/backups/" + first.ID + "/restore?async=true&only=logs"))
	if restoreOp.Kind != "restore" || restoreOp.State != "succeeded" || *restoreOp.SetID != first.ID || len(restoreOp.Databases) != 1 ||
		restoreOp.Progress == nil || restoreOp.Progress.DoneBytes == 0 {
		t.Fatalf("async restore = %+v", restoreOp)
	}

	// Refused requests start nothing and leave no record.
	reader := e.token(e.root, "read_streams")
	e.do("POST", "/api/v1/backups?async=true", reader, nil, "").wantError(t, http.StatusForbidden, "missing scopes", "")
	e.do("POST", "/api/v1/backups/"+first.ID+"/restore?async=true", reader, nil, "").wantError(t, http.StatusForbidden, "missing scope", "")
	e.do("POST", "/api/v1/backups/"+first.ID+"/verify?async=true", e.token(e.root, "send_logs"), nil, "").wantError(t, http.StatusForbidden, "missing scope", "")
	e.do("POST", "/api/v1/backups/20200101T000000Z-abcdef/verify?async=true", e.root, nil, "").wantError(t, http.StatusNotFound, "not found", "")
	e.do("POST", "/api/v1/backups?async=maybe", e.root, nil, "").wantError(t, http.StatusBadRequest, "async", "async=true")
	body, ct := form("backup", "logs.db", []byte("x"))
	e.do("POST", "/api/v1/restore/logs?async=true", e.root, body, ct).wantError(t, http.StatusBadRequest, "async=true is not available", "backups/ID/restore?async=true")

	ops, _ = e.operationsOf("", reader) // read_streams may list
	kinds := []string{}
	for _, o := range ops {
		kinds = append(kinds, o.Kind)
	}
	if strings.Join(kinds, ",") != "restore,verify,backup,backup" {
		t.Fatalf("history = %v, want restore, verify, backup, backup (newest first)", kinds)
	}
	page, next := e.operationsOf("?limit=2", e.root)
	if len(page) != 2 || next == nil || *next != page[1].ID {
		t.Fatalf("first page = %d, next %v", len(page), next)
	}
	rest, last := e.operationsOf("?limit=2&before="+*next, e.root)
	if len(rest) != 2 || rest[0].ID != ops[2].ID || rest[1].ID != ops[3].ID || last == nil {
		t.Fatalf("second page = %+v", rest)
	}
	if end, none := e.operationsOf("?limit=2&before="+*last, e.root); len(end) != 0 || none != nil {
		t.Fatalf("page past the end = %+v, %v", end, none)
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?before=../x"} {
		e.do("GET", "/api/v1/operations"+q, e.root, nil, "").wantError(t, http.StatusBadRequest, "", "")
	}
	e.do("GET", "/api/v1/operations/20200101T000000.000000Z-abcdef", e.root, nil, "").wantError(t, http.StatusNotFound, "not found", "GET /api/v1/operations")
	e.do("GET", "/api/v1/operations/..%2f..%2fetc", e.root, nil, "").wantError(t, http.StatusNotFound, "not found", "")
	noBackup := e.token(e.root, "send_logs")
	e.do("GET", "/api/v1/operations", noBackup, nil, "").wantError(t, http.StatusForbidden, "missing scopes", "")
	e.do("GET", "/api/v1/operations/"+ops[0].ID, noBackup, nil, "").wantError(t, http.StatusForbidden, "missing scopes", "")
	e.do("GET", "/api/v1/operations", "", nil, "").wantError(t, http.StatusUnauthorized, "", "")

	// The history is in the catalog, one 0600 file per operation.
	entries, err := os.ReadDir(filepath.Join(e.backupDir, "operations"))
	if err != nil || len(entries) != 4 {
		t.Fatalf("catalog holds %d operation records (%v), want 4", len(entries), err)
	}
	for _, en := range entries {
		if info, _ := en.Info(); info.Mode().Perm() != 0o600 {
			t.Fatalf("record %s has mode %v", en.Name(), info.Mode().Perm())
		}
	}
}

func TestOperations_AsyncRunsDetachedFromTheRequest(t *testing.T) {
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	e := newEnv(t, func(o *httpapi.Options) {
		o.BeforeRestoreWrite = func(kv.Name, bool) {
			held <- struct{}{}
			<-hold
		}
	})
	set := e.createSet("?verify=true")
	id := e.startAsync("/api/v1/backups/" + set.ID + "/restore?async=true&only=config")
	<-held // the 202 came while the restore is held in place
	r := e.do("GET", "/api/v1/operations/"+id, e.root, nil, "").must(t, http.StatusOK).json(t)
	if r["state"] != "running" || r["ended_at"] != nil {
		t.Fatalf("held restore = %v, want running", r)
	}
	ops, _ := e.operationsOf("", e.root)
	if ops[0].ID != id || ops[0].State != "running" {
		t.Fatalf("history while held = %+v, want the running restore first", ops[0])
	}
	// A second restore of config is refused at once, starting nothing.
	e.do("POST", "/api/v1/backups/"+set.ID+"/restore?async=true&only=config", e.root, nil, "").wantError(t, http.StatusConflict, "already running", "")
	close(hold)
	if got := e.waitOperation(id); got.State != "succeeded" || got.DurationSeconds <= 0 {
		t.Fatalf("restore after release = %+v", got)
	}
}

func TestOperations_FailedRunsAreRecordedWithTheirError(t *testing.T) {
	e := newEnv(t, nil)
	set := e.createSet("?only=config")
	flipByte(t, filepath.Join(e.backupDir, set.ID, "config.db"))
	got := e.waitOperation(e.startAsync("/api/v1/backups/" + set.ID + "/verify?async=true"))
	if got.State != "failed" || got.Error == nil || !strings.Contains(*got.Error, "verify failed") {
		t.Fatalf("verify of a damaged set = %+v, want failed with the verify error", got)
	}
	// A synchronous restore of the damaged set fails; the history says why.
	e.do("POST", "/api/v1/backups/"+set.ID+"/restore", e.root, nil, "").must(t, http.StatusConflict)
	ops, _ := e.operationsOf("", e.root)
	if len(ops) != 2 || ops[0].Kind != "verify" {
		t.Fatalf("history = %+v; a restore refused before it started leaves no record", ops)
	}
}

func TestOperations_ScheduledRunsAreRecordedWithTheirTrigger(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.srv.RunBackup(context.Background(), httpapi.BackupRun{Trigger: backup.TriggerScheduled, By: "scheduler"})
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := e.operationsOf("", e.root)
	if len(ops) != 1 || ops[0].Trigger != "scheduled" || ops[0].Who != "scheduler" || ops[0].State != "succeeded" || *ops[0].SetID != res.Set.ID {
		t.Fatalf("history after a scheduled set = %+v", ops)
	}
}

// A read_streams token reads the record of a restore of auth, as it lists
// the set, but not the answer that restore got: that is for holders of
// read_acls.
func TestOperations_AnswerOnlyForTheScopesOfItsDatabases(t *testing.T) {
	e := newEnv(t, nil)
	set := e.createSet("?only=auth")
	op := e.waitOperation(e.startAsync("/api/v1/backups/" + set.ID + "/restore?async=true"))
	if len(op.Result) == 0 {
		t.Fatalf("root reads no answer of its restore: %+v", op)
	}
	reader := e.token(e.root, "read_streams")
	r := e.do("GET", "/api/v1/operations/"+op.ID, reader, nil, "").must(t, http.StatusOK).json(t)
	if _, ok := r["result"]; ok || r["kind"] != "restore" {
		t.Fatalf("read_streams reads the restore of auth as %v, want its record without its result", r)
	}
	if r := e.do("GET", "/api/v1/operations/"+op.ID, e.token(e.root, "read_acls"), nil, "").must(t, http.StatusOK).json(t); r["result"] == nil {
		t.Fatalf("read_acls reads the restore of auth without its result: %v", r)
	}
}
