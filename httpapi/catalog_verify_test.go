package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCatalog_VerifyOfABrokenChainIsRefused: an incremental set whose base
// lost its manifest cannot be verified: 409 saying its chain is broken,
// nothing recorded in its manifest.
func TestCatalog_VerifyOfABrokenChainIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	full := e.createSet("")
	e.clock.Advance(2e9)
	inc := e.createSet("?only=logs&incremental=true")
	if inc.Parent != full.ID {
		t.Fatalf("incremental set %+v, want it built on %s", inc.SetInfo, full.ID)
	}
	if err := os.Remove(filepath.Join(e.backupDir, full.ID, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	e.do("POST", "/api/v1/backups/"+inc.ID+"/verify", e.root, nil, "").
		wantError(t, http.StatusConflict, "cannot be verified", "chain is broken")
	m, err := os.ReadFile(filepath.Join(e.backupDir, inc.ID, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(m), `"verification"`) {
		t.Fatalf("the refused set's manifest records a verification:\n%s", m)
	}
}
