package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/httpapi"
	"github.com/flowg-backup/flowg/kv"
)

// TestRestore_SafetyCopiesAreBounded restores config again and again on a
// server allowing 2 safety copies per database: the third restore keeping
// one is refused with 507, names the copies to remove and changes nothing;
// no copy is ever dropped to make room; once one is removed, restores work
// again. A restore keeping no copy is not held back.
func TestRestore_SafetyCopiesAreBounded(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.MaxSafetyCopies = 2 })
	e.putPipeline("p", "v1")
	file := e.backupOf("config")
	var ids []string
	for range 2 {
		e.putPipeline("p", "changed")
		got := e.restore("config", "", file).must(t, 200).json(t)
		ids = append(ids, got["safety_snapshot"].(string))
	}
	e.putPipeline("p", "changed again")
	before := e.content(t, kv.Config)
	r := e.restore("config", "?wipe=true", file)
	r.wantError(t, http.StatusInsufficientStorage, "already has 2 safety copies", "--max-safety-copies")
	for _, id := range ids {
		if !strings.Contains(r.String(), id) {
			t.Errorf("the refusal does not name the safety copy %s:\n%s", id, r)
		}
	}
	sameContent(t, "config after the refused restore", e.content(t, kv.Config), before)
	if pre := preRestoreSets(e.sets()); len(pre) != 2 {
		t.Errorf("pre_restore sets after the refusal: %v, want the 2 kept", pre)
	}
	if left, _ := filepath.Glob(e.dirs.Config + ".before-restore*"); len(left) != 0 {
		t.Errorf("the refused wipe left %v", left)
	}

	// Removing one makes room.
	e.do("DELETE", "/api/v1/backups/"+ids[0], e.root, nil, "").must(t, 200)
	e.restore("config", "", file).must(t, 200)
	if v, _ := e.pipeline("p"); v != "v1" {
		t.Errorf("after the restore p = %q, want v1", v)
	}
	if _, err := os.Stat(filepath.Join(e.backupDir, ids[1])); err != nil {
		t.Errorf("safety copy %s was dropped: %v", ids[1], err)
	}
}
