package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Work that is killed part-way leaves its record: written "running" when
// it starts, listed "interrupted" once its process is gone. Each process
// is stopped (SIGSTOP) while its record says running, so it cannot end its
// work before the SIGKILL: the test does not race the work.

// storedOp reads the record of operation id in the catalog dir.
func storedOp(dir, id string) (opRecord, bool) {
	var op opRecord
	body, err := os.ReadFile(filepath.Join(dir, "operations", id+".json"))
	return op, err == nil && json.Unmarshal(body, &op) == nil
}

// stopWhileRunning waits for the record of id to say running, stops pid
// and requires the record to still say running.
func stopWhileRunning(t *testing.T, dir, id string, pid int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if op, ok := storedOp(dir, id); ok && op.State == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no running record of %s within 30s", id)
		}
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(freezeSignal); err != nil {
		t.Fatal(err)
	}
	if op, _ := storedOp(dir, id); op.State != "running" {
		t.Fatalf("the operation ended before it could be stopped (%+v): give it more data", op)
	}
}

// findOp returns the operation id from list.
func findOp(list []opRecord, id string) opRecord {
	for _, op := range list {
		if op.ID == id {
			return op
		}
	}
	return opRecord{}
}

func TestOpsAPI_KilledWorkIsListedInterrupted(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	bigLogs(t, dirs.logs, 40000) // 40 MiB
	offlineLogs := filepath.Join(dirs.root, "offline-logs")
	copyTree(t, dirs.logs, offlineLogs) // the offline command's own copy: the server holds its databases open
	s := startServer(t, dirs)
	root := s.rootJWT(t)

	// An async backup; the server is killed while it writes the set.
	var started struct {
		ID string `json:"operation_id"`
	}
	curlAPI(t, s, http.StatusAccepted, &started, "-X", "POST", "-H", "Authorization: "+root, s.url+"/api/v1/backups?async=true&verify=true")
	stopWhileRunning(t, dirs.backups, started.ID, s.cmd.Process.Pid)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	s.err = nil // killed on purpose

	s = startServer(t, dirs)
	root = s.rootJWT(t)
	op := findOp(operationsList(t, s, root, ""), started.ID)
	if op.State != "interrupted" || op.Error == nil || op.EndedAt != nil || op.Kind != "backup" {
		t.Fatalf("the killed server's backup is listed %+v, want interrupted with an error saying why", op)
	}
	if got := operation(t, s, root, started.ID); got.State != "interrupted" {
		t.Fatalf("GET /api/v1/operations/%s = %+v, want interrupted", started.ID, got)
	}
	if stored, _ := storedOp(dirs.backups, started.ID); stored.State != "running" {
		t.Fatalf("listing rewrote the record: %+v", stored)
	}

	// An offline set: listed running by the server while the command runs,
	// interrupted once it is killed.
	cmd := exec.Command(flowgBin, "admin", "backups", "create", "--backup-dir", dirs.backups, "--only", "logs",
		"--log-dir", offlineLogs)
	cmd.Dir = dirs.root
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var offline opRecord
	for deadline := time.Now().Add(30 * time.Second); offline.ID == ""; time.Sleep(5 * time.Millisecond) {
		for _, op := range operationsList(t, s, root, "?limit=5") {
			if op.Trigger == "offline" {
				offline = op
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the offline backup never appeared in the server's history while it ran")
		}
	}
	stopWhileRunning(t, dirs.backups, offline.ID, cmd.Process.Pid)
	if op := findOp(operationsList(t, s, root, ""), offline.ID); op.State != "running" {
		t.Fatalf("the running offline backup is listed %+v, want running", op)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if op := findOp(operationsList(t, s, root, ""), offline.ID); op.State != "interrupted" {
		t.Fatalf("the killed offline backup is listed %+v, want interrupted", op)
	}

	// An offline import is an operation of the history too (kind import).
	file := filepath.Join(dirs.client, "p.jsonl")
	if err := os.WriteFile(file, []byte(`{"v":1,"kind":"pipeline","name":"p","json":{"nodes":[]}}`+"\n"+`{"v":1,"kind":"end","count":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFlowg(t, dirs.root, "admin", "import", file, "--catalog-dir", dirs.backups, "--only", "config",
		"--config-dir", filepath.Join(dirs.root, "offline-config"), "--log-dir", offlineLogs)
	if ops := operationsList(t, s, root, "?limit=1"); len(ops) != 1 || ops[0].Kind != "import" || ops[0].Trigger != "offline" || ops[0].State != "succeeded" {
		t.Fatalf("history after an offline import = %+v, want it first", ops)
	}
}
