package integration

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// keyVersions lists every version the database in dir holds of key, newest
// first ("v12 deleted", "v9 set"), and the database's highest version.
func keyVersions(t testing.TB, dir, key string) ([]string, uint64) {
	t.Helper()
	db := openDB(t, dir)
	defer closeDB(t, db)
	var out []string
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{AllVersions: true, Prefix: []byte(key)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if string(item.Key()) != key {
				continue
			}
			state := "set"
			if item.IsDeletedOrExpired() {
				state = "deleted"
			}
			out = append(out, fmt.Sprintf("v%d %s", item.Version(), state))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the versions of %s: %v", key, err)
	}
	return out, db.MaxVersion()
}

// An offline merge (`flowg admin restore` without --wipe, which loads every
// record at one timestamp reserved from Badger's oracle) brings back a key
// the server deleted after a wipe restore, although the wipe built the
// database with Badger's StreamWriter at the backup's own versions: the
// oracle of the reopened database starts above every version it holds,
// the deletion's included, so the merged value is the newest.
func TestServer_AnOfflineMergeBringsBackAKeyDeletedAfterAWipeRestore(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl")
	for _, tc := range []struct {
		name string
		// restarts between the wipe and the deletion; churn: users created
		// and deleted after it.
		offlineWipe     bool
		restarts, churn int
	}{
		{name: "online set wipe, then the deletion"},
		{name: "online set wipe, two restarts, the deletion and more writes", restarts: 2, churn: 20},
		{name: "offline wipe, then the deletion", offlineWipe: true, churn: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dirs := newServerDirs(t)
			dbFlags := []string{"--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs}
			s := startServer(t, dirs)
			root := s.rootJWT(t)
			s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/reader", root, map[string]any{"scopes": []string{"read_streams"}})
			s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/alice", root, map[string]any{"password": "alice-pw-123", "roles": []string{"reader"}})
			s.stop(t)
			old := filepath.Join(dirs.root, "old")
			mustFlowg(t, dirs.root, with([]string{"admin", "backup", "--only", "auth", "--backup-dir", old}, dbFlags...)...)
			created := mustFlowg(t, dirs.root, with([]string{"admin", "backups", "create", "--only", "auth", "--backup-dir", dirs.backups}, dbFlags...)...)
			setID, _, _ := strings.Cut(strings.TrimPrefix(created.stdout, "set "), " ")

			if tc.offlineWipe {
				mustFlowg(t, dirs.root, with([]string{"admin", "restore", "--wipe", "--only", "auth", "--backup-dir", old, "--max-safety-copies", "0"}, dbFlags...)...)
			} else {
				s = startServer(t, dirs)
				curlRestoreSet(t, s, root, setID, "only=auth&wipe=true", "auth")
				s.stop(t)
			}
			for range tc.restarts {
				startServer(t, dirs).stop(t)
			}
			s = startServer(t, dirs)
			s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/users/alice", root, nil)
			for i := range tc.churn {
				name := fmt.Sprintf("/api/v1/users/churn%d", i)
				s.must(t, http.StatusOK, http.MethodPut, name, root, map[string]any{"password": "churn-pw-123", "roles": []string{"reader"}})
				s.must(t, http.StatusOK, http.MethodDelete, name, root, nil)
			}
			s.stop(t)
			before, maxBefore := keyVersions(t, dirs.auth, "user/alice")
			if _, ok := readDB(t, dirs.auth)["user/alice"]; ok || len(before) == 0 || !strings.HasSuffix(before[0], "deleted") {
				t.Fatalf("the deletion of alice is not the newest version of user/alice: %v", before)
			}

			mustFlowg(t, dirs.root, with([]string{"admin", "restore", "--only", "auth", "--backup-dir", old, "--max-safety-copies", "0"}, dbFlags...)...)
			after, maxAfter := keyVersions(t, dirs.auth, "user/alice")
			t.Logf("user/alice before the merge: %v (database max version %d); after: %v (max %d)", before, maxBefore, after, maxAfter)
			if _, ok := readDB(t, dirs.auth)["user/alice"]; !ok {
				t.Fatalf("the offline merge did not bring back user/alice, deleted after the wipe: versions before %v (max %d), after %v", before, maxBefore, after)
			}
			var newest uint64
			if _, err := fmt.Sscanf(after[0], "v%d", &newest); err != nil || newest <= maxBefore {
				t.Fatalf("the merged user/alice is at version %s, not above every version the database held (max %d)", after[0], maxBefore)
			}
		})
	}
}
