package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A write_streams user firing dry-run restores of a set with ?async=true
// (each reads the whole backup, and the request returns at once with 202)
// runs at most one at a time per database: the others get 409, as a
// restore would. Before, every one ran at once and the server's memory
// grew by the size of the backup with each.
func TestAttack_AsyncDryRunsDoNotPileUp(t *testing.T) {
	requirePrograms(t, "curl", "xargs")
	s := startServer(t, newServerDirs(t))
	root := s.rootJWT(t)
	bob := lowUser(t, s, root, "bob", "write_streams")

	recs := make([]map[string]any, 5000)
	for i := range recs {
		recs[i] = map[string]any{"msg": strings.Repeat("x", 400), "i": i}
	}
	batch, _ := json.Marshal(map[string]any{"records": recs})
	file := filepath.Join(s.dirs.client, "batch.json")
	if err := os.WriteFile(file, batch, 0o600); err != nil {
		t.Fatal(err)
	}
	runBash(t, s.dirs.client, fmt.Sprintf(`for i in $(seq 20); do curl -sSf -o /dev/null -H %q -H 'Content-Type: application/json' --data-binary @batch.json %s/api/v1/streams/app/logs; done`,
		"Authorization: "+root, s.url))
	var set struct {
		ID string `json:"id"`
	}
	curlAPI(t, s, http.StatusCreated, &set, "-X", "POST", "-H", "Authorization: "+root, s.url+"/api/v1/backups?only=logs")

	r := runBash(t, s.dirs.client, fmt.Sprintf(`seq 10 | xargs -P10 -I{} curl -sS -o /dev/null -w '%%{http_code}\n' -X POST -H %q '%s/api/v1/backups/%s/restore?dry_run=true&async=true'`,
		"Authorization: "+bob, s.url, set.ID))
	accepted, busy := strings.Count(r.stdout, "202"), strings.Count(r.stdout, "409")
	// Each dry run reads 100 000 records: ten sent together overlap, and
	// all but the one running are refused (how many depends on the
	// machine's speed; before, none was).
	if accepted+busy != 10 || busy == 0 {
		t.Fatalf("10 dry runs at once: %d accepted (202), %d refused busy (409), want those that overlap refused:\n%s", accepted, busy, r.stdout)
	}
	if ops := operationsList(t, s, root, ""); len(ops) == 0 {
		t.Fatal("no operation recorded")
	}
}
