package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/operations"
)

func TestOperations_ImportsAreRecordedDryRunsAndRefusalsNot(t *testing.T) {
	e := newEnv(t, nil)
	file := `{"v":1,"kind":"pipeline","name":"imported","json":{"nodes":[]}}` + "\n" + `{"v":1,"kind":"end","count":1}` + "\n"
	e.do("POST", "/api/v1/import/config?dry_run=true", e.root, strings.NewReader(file), "application/x-ndjson").must(t, http.StatusOK)
	e.do("POST", "/api/v1/import/config", e.root, strings.NewReader(`{"v":1,"kind":"nope"}`+"\n"), "application/x-ndjson").must(t, http.StatusBadRequest)
	if ops, _ := e.operationsOf("", e.root); len(ops) != 1 || ops[0].Kind != operations.KindImport || !ops[0].DryRun {
		t.Fatalf("after a dry run and a refused file: %+v, want the dry run only, from memory", ops)
	}
	e.do("POST", "/api/v1/import/config", e.root, strings.NewReader(file), "application/x-ndjson").must(t, http.StatusOK)
	ops, _ := e.operationsOf("", e.root)
	if len(ops) != 2 || ops[0].Kind != operations.KindImport || ops[0].State != operations.StateSucceeded || ops[0].DryRun ||
		ops[0].Who != "root" || len(ops[0].Databases) != 1 || ops[0].Databases[0] != "config" {
		t.Fatalf("after an import: %+v, want it first, succeeded, by root, on config", ops)
	}
	stored, err := operations.NewHistory(backup.OpenCatalog(e.backupDir), 0, nil).List(context.Background(), "", 10)
	if err != nil || len(stored) != 1 || stored[0].ID != ops[0].ID {
		t.Fatalf("records in the catalog = %+v, want the import only (dry runs and refusals are not kept)", stored)
	}
}
