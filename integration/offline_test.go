package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/kv"
)

// backedUp writes the sample data under a fresh root, runs the seed's backup
// command there and returns the root and the data.
func backedUp(t *testing.T) (string, dataset) {
	t.Helper()
	root := t.TempDir()
	data := sampleData()
	writeDataset(t, root, data)
	mustFlowg(t, root, seedBackup...)
	return root, data
}

// changeAfterBackup changes every database after a backup: a key updated, a
// key created, a key deleted. It returns what the databases then hold.
func changeAfterBackup(t *testing.T, root string, d dataset) dataset {
	t.Helper()
	changes := dataset{
		auth:   content{"user/root": {Value: `{"password":"changed after the backup"}`}, "user/bob": {Value: `{"password":"created after the backup"}`}},
		config: content{"pipeline/default": {Value: `{"nodes":["changed"]}`}, "pipeline/new": {Value: `{}`}},
		logs:   content{"log/app/000007": {Value: "rewritten"}, "log/app/999999": {Value: "written after the backup"}},
	}
	deleted := map[string]string{"auth": "user/alice", "config": "alert/oncall", "logs": "log/app/000003"}
	var after dataset
	for _, name := range dbNames {
		writeDB(t, dataDir(root, name), changes.of(name))
		deleteKeys(t, dataDir(root, name), deleted[name])
	}
	after.auth = minus(union(d.auth, changes.auth), deleted["auth"])
	after.config = minus(union(d.config, changes.config), deleted["config"])
	after.logs = minus(union(d.logs, changes.logs), deleted["logs"])
	return after
}

// TestOfflineBackup_SeedCommandWritesEveryFile runs the seed's backup command
// as written and checks the files, their modes, the manifest, and that the
// databases were not written.
func TestOfflineBackup_SeedCommandWritesEveryFile(t *testing.T) {
	root := t.TempDir()
	data := sampleData()
	writeDataset(t, root, data)
	before := fingerprint(t, filepath.Join(root, "data"))

	r := mustFlowg(t, root, seedBackup...)

	if after := fingerprint(t, filepath.Join(root, "data")); after != before {
		t.Fatalf("the backup wrote to the databases:\nbefore\n%s\nafter\n%s", before, after)
	}
	dir := filepath.Join(root, "backup")
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("backup directory: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	if got, want := entries(t, dir), []string{"auth.db", "config.db", "log.db", "manifest.json"}; !slices.Equal(got, want) {
		t.Fatalf("backup directory holds %v, want %v", got, want)
	}
	for _, f := range []string{"auth.db", "config.db", "log.db", "manifest.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
	}
	m := readManifest(t, dir)
	for _, name := range dbNames {
		e, ok := m.Databases[name]
		if !ok {
			t.Fatalf("manifest has no entry for %s: %+v", name, m)
		}
		wantFile := map[string]string{"auth": "auth.db", "config": "config.db", "logs": "log.db"}[name]
		if e.File != wantFile || e.Keys != uint64(len(data.of(name))) || e.ReadTs == 0 {
			t.Errorf("manifest entry of %s = %+v; want file %s, %d keys, a read timestamp", name, e, wantFile, len(data.of(name)))
		}
		if sum := fileSHA256(t, filepath.Join(dir, e.File)); e.SHA256 != sum {
			t.Errorf("manifest sha256 of %s = %s, the file's is %s", name, e.SHA256, sum)
		}
		requireContains(t, "stdout", r.stdout, name)
	}
}

// manifest is the part of manifest.json the tests read.
type manifest struct {
	Databases map[string]struct {
		File   string `json:"file"`
		Keys   uint64 `json:"keys"`
		ReadTs uint64 `json:"read_ts"`
		SHA256 string `json:"sha256"`
	} `json:"databases"`
}

func readManifest(t testing.TB, dir string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v\n%s", err, b)
	}
	return m
}

// TestOfflineRestore_SeedCommandMerges runs the seed's restore command after
// every database changed: keys of the backup are put back (even over newer
// values), keys created since are kept, and a revived user is warned about.
func TestOfflineRestore_SeedCommandMerges(t *testing.T) {
	root, data := backedUp(t)
	changeAfterBackup(t, root, data)

	r := mustFlowg(t, root, seedRestore...)

	want := dataset{
		auth:   union(data.auth, content{"user/bob": {Value: `{"password":"created after the backup"}`}}),
		config: union(data.config, content{"pipeline/new": {Value: `{}`}}),
		logs:   union(data.logs, content{"log/app/999999": {Value: "written after the backup"}}),
	}
	requireDataset(t, "after the merge", root, want)
	requireContains(t, "stderr", r.stderr, "brought back 1 user ", "alice")
	if strings.Contains(r.stderr, "held nothing to merge with") {
		t.Fatalf("a merge into databases holding data took the bulk path of empty ones:\n%s", r.stderr)
	}
}

// TestOfflineRestore_DestructiveSeedFlow runs the seed's destructive flow:
// rm -rf ./data, then the restore command; the databases then hold exactly
// the backup.
func TestOfflineRestore_DestructiveSeedFlow(t *testing.T) {
	root, data := backedUp(t)
	changeAfterBackup(t, root, data)

	if r := command(t, root, time.Minute, "rm", "-rf", "./data"); r.code != 0 {
		t.Fatalf("rm -rf ./data:\n%s", r)
	}
	r := mustFlowg(t, root, seedRestore...)

	requireDataset(t, "restored from nothing", root, data)
	// With nothing to merge with, each file is bulk-loaded beside the new
	// empty database and swapped in: nothing else is left in ./data.
	for _, dir := range []string{"./data/auth", "./data/config", "./data/logs"} {
		requireContains(t, "stderr", r.stderr, dir+" held nothing to merge with: its file was bulk-loaded")
	}
	if n := strings.Count(r.stdout, "(into an empty database: bulk-loaded)"); n != 3 {
		t.Fatalf("stdout says %d times that a database was bulk-loaded, want 3:\n%s", n, r.stdout)
	}
	entries, err := os.ReadDir(filepath.Join(root, "data"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "auth config logs" {
		t.Fatalf("./data holds %v after the restore, want just auth, config and logs", names)
	}
}

// TestOfflineRestore_WipeLeavesExactlyTheBackupAndCanBeUndone restores with
// --wipe, checks the databases, then runs the undo command it printed.
func TestOfflineRestore_WipeLeavesExactlyTheBackupAndCanBeUndone(t *testing.T) {
	root, data := backedUp(t)
	changed := changeAfterBackup(t, root, data)

	r := mustFlowg(t, root, with(seedRestore, "--wipe")...)

	requireDataset(t, "after the wipe", root, data)
	for _, name := range dbNames {
		aside := lineAfter(r.stderr, "previous "+name+" database kept at ")
		if aside == "" {
			t.Fatalf("stderr does not say where the previous %s database was kept:\n%s", name, r.stderr)
		}
		requireDB(t, "set-aside "+name, filepath.Join(root, aside), changed.of(name))
	}
	// Undo the wipe of every database with the one command it printed.
	undos := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		if _, undo, ok := strings.Cut(line, "to undo this restore: "); ok {
			undos++
			if u := command(t, root, time.Minute, "sh", "-c", undo); u.code != 0 {
				t.Fatalf("the printed undo command failed:\n%s", u)
			}
		}
	}
	if undos != 1 || strings.Count(r.stderr, "to undo") != 1 {
		t.Fatalf("stderr gives %d undo commands, want 1 for the 3 databases:\n%s", undos, r.stderr)
	}
	requireDataset(t, "after the printed undo commands", root, changed)
}

// TestOfflineRestore_WipeWhenItsDirectoryNamesAreTaken runs a wipe restore
// while the names it derives from the current second are already used, as
// they are when an earlier wipe ran, or crashed, within the same second (a
// script restoring twice in a row). The restore must succeed, keep the
// database it replaced, and leave the earlier directories alone.
func TestOfflineRestore_WipeWhenItsDirectoryNamesAreTaken(t *testing.T) {
	for _, taken := range []string{"before-restore", "restore-staging"} {
		t.Run("config."+taken+"-<this second> exists", func(t *testing.T) {
			root, data := backedUp(t)
			changed := changeAfterBackup(t, root, data)
			var earlier []string
			now := time.Now().UTC()
			for s := -1; s <= 10; s++ {
				dir := filepath.Join(root, "data", "config."+taken+"-"+now.Add(time.Duration(s)*time.Second).Format("20060102T150405Z"))
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("an earlier run's"), 0o600); err != nil {
					t.Fatal(err)
				}
				earlier = append(earlier, dir)
			}

			// The planted directories read as safety copies: no limit here.
			r := flowg(t, root, with(seedRestore, "--wipe", "--only", "config", "--max-safety-copies", "0")...)
			if r.code != 0 {
				t.Fatalf("want exit code 0:\n%s", r)
			}
			requireDB(t, "config", dataDir(root, "config"), data.config)
			aside := lineAfter(r.stderr, "previous config database kept at ")
			if aside == "" {
				t.Fatalf("stderr does not say where the previous database went:\n%s", r.stderr)
			}
			requireDB(t, "set-aside config", filepath.Join(root, aside), changed.config)
			for _, dir := range earlier {
				if b, err := os.ReadFile(filepath.Join(dir, "MANIFEST")); err != nil || string(b) != "an earlier run's" {
					t.Fatalf("%s was changed: %q, %v", dir, b, err)
				}
			}
		})
	}
}

// TestOfflineRestore_MergeSafetySnapshotUndoesIt follows the undo command a
// merge prints after its safety snapshot.
func TestOfflineRestore_MergeSafetySnapshotUndoesIt(t *testing.T) {
	root, data := backedUp(t)
	changed := changeAfterBackup(t, root, data)

	r := mustFlowg(t, root, with(seedRestore, "--only", "auth")...)
	undo := lineAfter(r.stderr, "to undo this restore: ")
	if !strings.HasPrefix(undo, "flowg ") {
		t.Fatalf("stderr gives no undo command:\n%s", r.stderr)
	}
	mustFlowg(t, root, strings.Fields(strings.TrimPrefix(undo, "flowg "))...)

	requireDB(t, "auth after the undo", dataDir(root, "auth"), changed.auth)
}

// TestOfflineRestore_OnlyTouchesTheNamedDatabase restores logs alone from a
// directory that holds only the logs file, under the online download's name
// logs.db; the other databases are left as they are, byte for byte.
func TestOfflineRestore_OnlyTouchesTheNamedDatabase(t *testing.T) {
	for _, wipe := range []bool{false, true} {
		t.Run("wipe "+strconv.FormatBool(wipe), func(t *testing.T) {
			root, data := backedUp(t)
			changed := changeAfterBackup(t, root, data)
			bk := filepath.Join(root, "backup")
			for _, f := range []string{"auth.db", "config.db", "manifest.json"} {
				if err := os.Remove(filepath.Join(bk, f)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Rename(filepath.Join(bk, "log.db"), filepath.Join(bk, "logs.db")); err != nil {
				t.Fatal(err)
			}
			authBefore := fingerprint(t, dataDir(root, "auth"))
			configBefore := fingerprint(t, dataDir(root, "config"))

			args := with(seedRestore, "--only", "logs")
			if wipe {
				args = append(args, "--wipe")
			}
			mustFlowg(t, root, args...)

			wantLogs := union(data.logs, content{"log/app/999999": {Value: "written after the backup"}})
			if wipe {
				wantLogs = data.logs
			}
			if fingerprint(t, dataDir(root, "auth")) != authBefore || fingerprint(t, dataDir(root, "config")) != configBefore {
				t.Fatal("a restore --only logs wrote to the auth or config directory")
			}
			requireDB(t, "logs", dataDir(root, "logs"), wantLogs)
			requireDB(t, "auth", dataDir(root, "auth"), changed.auth)
			requireDB(t, "config", dataDir(root, "config"), changed.config)
		})
	}
}

// TestOfflineRestore_DryRunReportsCountsAndWritesNothing checks the counts
// --dry-run prints per database and that no file changed.
func TestOfflineRestore_DryRunReportsCountsAndWritesNothing(t *testing.T) {
	root, data := backedUp(t)
	changeAfterBackup(t, root, data)
	before := fingerprint(t, root)

	r := mustFlowg(t, root, with(seedRestore, "--dry-run")...)

	if after := fingerprint(t, root); after != before {
		t.Fatalf("--dry-run wrote files:\nbefore\n%s\nafter\n%s", before, after)
	}
	requireContains(t, "stderr", r.stderr, "dry run: nothing was written")
	// Each database: 1 key updated and 1 deleted since the backup (merge
	// overwrites 1 and adds 1), 1 created (wipe removes 1).
	line := regexp.MustCompile(`(?m)^(\w+)\s+\S+: (\d+) keys; merge would add (\d+), overwrite (\d+), leave (\d+) unchanged; --wipe would also remove (\d+)`)
	found := map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(r.stdout, -1) {
		name := m[1]
		n := len(data.of(name))
		want := []string{strconv.Itoa(n), "1", "1", strconv.Itoa(n - 2), "1"}
		if got := m[2:]; !slices.Equal(got, want) {
			t.Errorf("%s: keys, added, overwritten, unchanged, removed = %v; want %v", name, got, want)
		}
		found[name] = true
	}
	if len(found) != 3 {
		t.Fatalf("stdout has a plan line for %v, want auth, config and logs:\n%s", found, r.stdout)
	}

	t.Run("no databases yet", func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(root, "data")); err != nil {
			t.Fatal(err)
		}
		r := mustFlowg(t, root, with(seedRestore, "--dry-run")...)
		for _, name := range dbNames {
			n := strconv.Itoa(len(data.of(name)))
			requireContains(t, "stdout", r.stdout, n+" keys; merge would add "+n+", overwrite 0, leave 0 unchanged; --wipe would also remove 0")
		}
		if _, err := os.Stat(filepath.Join(root, "data")); !os.IsNotExist(err) {
			t.Fatalf("--dry-run created ./data (stat: %v)", err)
		}
	})
}

// TestOfflineBackup_FailureKeepsEarlierBackup makes backups fail and checks
// that an earlier backup is left as it was, and that no partial file stays.
func TestOfflineBackup_FailureKeepsEarlierBackup(t *testing.T) {
	t.Run("backup directory under a regular file", func(t *testing.T) {
		root, _ := backedUp(t)
		if err := os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := fingerprint(t, root)
		r := flowg(t, root, with(seedBackup[:len(seedBackup)-1], "./file/backup")...)
		if r.code != 1 {
			t.Fatalf("want exit code 1:\n%s", r)
		}
		requireContains(t, "stderr", r.stderr, "flowg: backup failed", "not a directory")
		if after := fingerprint(t, root); after != before {
			t.Fatalf("a failed backup changed files:\nbefore\n%s\nafter\n%s", before, after)
		}
	})

	t.Run("file size limit hit while writing", func(t *testing.T) {
		root, _ := backedUp(t)
		// The logs database grows past what the limit lets the next backup write.
		big := content{}
		for i := range 64 {
			big["log/bulk/"+strconv.Itoa(i)] = record{Value: string(randomBytes(64<<10, int64(i)))}
		}
		writeDB(t, dataDir(root, "logs"), big)
		before := fingerprint(t, filepath.Join(root, "backup"))
		r := command(t, root, 2*time.Minute, "bash", with([]string{"-c", `ulimit -f 1024 && exec "$0" "$@"`, flowgBin}, seedBackup...)...)
		if r.code != 1 {
			t.Fatalf("want exit code 1 from a backup over the file size limit:\n%s", r)
		}
		requireContains(t, "stderr", r.stderr, "flowg: backup failed")
		if after := fingerprint(t, filepath.Join(root, "backup")); after != before {
			t.Fatalf("the failed backup changed the earlier one:\nbefore\n%s\nafter\n%s", before, after)
		}
		mustFlowg(t, root, "admin", "verify", "--backup-dir", "./backup")
	})
}

// TestOffline_RefusesDatabaseHeldByAnotherProcess holds one database open in
// the test process, as a running server does, and runs every offline command:
// each must fail at once, say why and point to the online endpoints, and
// change no database.
func TestOffline_RefusesDatabaseHeldByAnotherProcess(t *testing.T) {
	commands := []struct {
		name     string
		args     []string
		endpoint string
	}{
		{"backup", seedBackup, "GET /api/v1/backup/"},
		{"restore", seedRestore, "POST /api/v1/restore/"},
		{"restore --wipe", with(seedRestore, "--wipe"), "POST /api/v1/restore/"},
		{"restore --dry-run", with(seedRestore, "--dry-run"), "/api/v1/restore/"},
	}
	template, data := backedUp(t)
	changed := changeAfterBackup(t, template, data)
	for _, held := range dbNames {
		for _, cmd := range commands {
			t.Run(cmd.name+"/"+held+" held", func(t *testing.T) {
				t.Parallel()
				root := clone(t, template)
				bkBefore := fingerprint(t, filepath.Join(root, "backup"))
				db, err := kv.Open(dataDir(root, held), kv.OpenOptions{})
				if err != nil {
					t.Fatal(err)
				}
				r := flowg(t, root, cmd.args...)
				heldContent := readOpenDB(t, db)
				closeDB(t, db)

				if r.code != 1 {
					t.Fatalf("want exit code 1:\n%s", r)
				}
				requireContains(t, "stderr", r.stderr, "in use by another process", "server running", cmd.endpoint+held)
				if d := diff(changed.of(held), heldContent); d != "" {
					t.Fatalf("the held database changed: %s", d)
				}
				for _, name := range dbNames {
					requireDB(t, name+" after the refusal", dataDir(root, name), changed.of(name))
				}
				if after := fingerprint(t, filepath.Join(root, "backup")); after != bkBefore {
					t.Fatalf("the backup directory changed:\nbefore\n%s\nafter\n%s", bkBefore, after)
				}
				if got := entries(t, filepath.Join(root, "data")); !slices.Equal(got, []string{"auth", "config", "logs"}) {
					t.Fatalf("data directory holds %v after the refusal", got)
				}
			})
		}
	}
}

// randomBytes returns n incompressible bytes, deterministic for seed.
func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	x := uint64(seed)*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	r := command(t, filepath.Dir(path), time.Minute, "sha256sum", filepath.Base(path))
	if r.code != 0 {
		t.Fatalf("sha256sum:\n%s", r)
	}
	sum, _, _ := strings.Cut(r.stdout, " ")
	return sum
}

// TestOffline_DefaultBackupDirIsNamed leaves --backup-dir out: backup and
// restore use ./backup, and each says so on stderr instead of silently.
func TestOffline_DefaultBackupDirIsNamed(t *testing.T) {
	root := t.TempDir()
	data := sampleData()
	writeDataset(t, root, data)
	dbDirs := []string{"--auth-dir", "./data/auth", "--config-dir", "./data/config", "--log-dir", "./data/logs"}

	r := mustFlowg(t, root, append([]string{"admin", "backup"}, dbDirs...)...)
	requireContains(t, "backup stderr", r.stderr, "no --backup-dir given: writing the backup to ./backup")
	if _, err := os.Stat(filepath.Join(root, "backup", "auth.db")); err != nil {
		t.Fatalf("the default backup directory holds no auth.db: %v", err)
	}
	r = mustFlowg(t, root, append([]string{"admin", "restore", "--dry-run"}, dbDirs...)...)
	requireContains(t, "restore stderr", r.stderr, "no --backup-dir given: restoring from ./backup")
	r = mustFlowg(t, root, with(seedRestore, "--dry-run")...)
	if strings.Contains(r.stderr, "no --backup-dir given") {
		t.Fatalf("a restore given --backup-dir says it was not:\n%s", r.stderr)
	}
}

// TestOfflineRestore_RefusesToGuessBetweenLogDbAndLogsDb: a directory with
// both log.db (flowg admin backup) and logs.db (the online download) and no
// manifest to say which is the backup is refused, changing nothing.
func TestOfflineRestore_RefusesToGuessBetweenLogDbAndLogsDb(t *testing.T) {
	root, data := backedUp(t)
	backupDir := filepath.Join(root, "backup")
	logFile, err := os.ReadFile(filepath.Join(backupDir, "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backupDir, "logs.db"), logFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(backupDir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	changed := changeAfterBackup(t, root, data)
	r := flowg(t, root, seedRestore...)
	if r.code != 1 || !strings.Contains(r.stderr, "holds both") || !strings.Contains(r.stderr, "move aside the one not to restore") {
		t.Fatalf("want exit 1 naming both files and what to do, got\n%s", r)
	}
	requireDataset(t, "after the refused restore", root, changed)
}

// TestOfflineVerify_ChecksLogDbAndLogsDb verifies both files a directory may
// hold the logs database in, and a missing backup directory's message says
// what to give.
func TestOfflineVerify_ChecksLogDbAndLogsDb(t *testing.T) {
	root, _ := backedUp(t)
	backupDir := filepath.Join(root, "backup")
	logFile, err := os.ReadFile(filepath.Join(backupDir, "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	// A damaged logs.db beside a good log.db: verify must notice it.
	logFile[len(logFile)/2] ^= 0x40
	if err := os.WriteFile(filepath.Join(backupDir, "logs.db"), logFile, 0o600); err != nil {
		t.Fatal(err)
	}
	r := flowg(t, root, "admin", "verify", "--backup-dir", "./backup")
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "logs.db") {
		t.Fatalf("verify of a directory with a damaged logs.db: want exit 1 naming logs.db, got\n%s", r)
	}

	r = flowg(t, root, with(seedRestore[:len(seedRestore)-2], "--backup-dir", "./nope")...)
	if r.code != 1 || !strings.Contains(r.stderr, "give the directory the backup was written to") {
		t.Fatalf("restore from a missing directory: want exit 1 and what to give, got\n%s", r)
	}
}

// TestOfflineRestore_EmptyDatabaseBehindASymlinkStaysBehindIt: a logs
// directory that is a symbolic link (to a bigger disk) is merged into
// through the link, not replaced by a bulk-loaded directory beside it.
func TestOfflineRestore_EmptyDatabaseBehindASymlinkStaysBehindIt(t *testing.T) {
	root, data := backedUp(t)
	if err := os.RemoveAll(filepath.Join(root, "data")); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(root, "bigdisk", "logs")
	if err := os.MkdirAll(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(disk, filepath.Join(root, "data", "logs")); err != nil {
		t.Fatal(err)
	}
	mustFlowg(t, root, seedRestore...)

	requireDataset(t, "restored through the link", root, data)
	if st, err := os.Lstat(filepath.Join(root, "data", "logs")); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("./data/logs is no longer the symbolic link (%v, %v)", st, err)
	}
	if _, err := os.Stat(filepath.Join(disk, "MANIFEST")); err != nil {
		t.Fatalf("the database is not on the linked disk: %v", err)
	}
}
