package integration

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// An online JSON import is held to the size guard of a restore: a file
// past --max-restore-size is refused (413) before the database is held or
// written, as a restore of a backup that large would be. Before, an import
// had no size bound but --max-upload (none by default) and no free-space
// check, so a write_streams user could fill the database's disk.
func TestAttack_ImportHeldToMaxRestoreSize(t *testing.T) {
	s := startServer(t, newServerDirs(t), "--max-restore-size", "2KiB")
	root := s.rootJWT(t)
	bob := lowUser(t, s, root, "bob", "write_streams")
	runBash(t, s.dirs.client, fmt.Sprintf(`for i in $(seq 20); do curl -sSf -o /dev/null -H %q -H 'Content-Type: application/json' -d '{"records":[{"msg":"%s"}]}' %s/api/v1/streams/app/logs; done`,
		"Authorization: "+root, strings.Repeat("x", 200), s.url))
	file := filepath.Join(s.dirs.client, "logs.jsonl")
	curlAPI(t, s, http.StatusOK, nil, "-o", file, "-H", "Authorization: "+root, s.url+"/api/v1/export/logs")

	body := curlAPI(t, s, http.StatusRequestEntityTooLarge, nil, "-X", "POST", "-H", "Authorization: "+bob,
		"-H", "Content-Type: application/x-ndjson", "--data-binary", "@"+file, s.url+"/api/v1/import/logs?lenient=true")
	requireContains(t, "the import past --max-restore-size", body, "import refused", "over this restore's limit", "--max-restore-size", "nothing was changed")
	var list struct {
		Backups []struct {
			Trigger string `json:"trigger"`
		} `json:"backups"`
	}
	curlAPI(t, s, http.StatusOK, &list, "-H", "Authorization: "+root, s.url+"/api/v1/backups")
	if len(list.Backups) != 0 {
		t.Fatalf("a refused import left sets in the catalog: %+v", list.Backups)
	}
}
