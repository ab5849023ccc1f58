package integration

import (
	"bufio"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The restore drill in one command: `flowg admin drill` restores a catalog
// set into a scratch directory, serves it with the real binary on a
// loopback port, checks the key counts against the manifest, removes the
// scratch copy and records the drill in the catalog, which a server then
// exports in /metrics; `flowg serve --backup-drill` runs it on a schedule.

// drillRecord is a drill record as `flowg admin drill --json` prints it
// and drills/<time>.json holds it.
type drillRecord struct {
	Time       time.Time `json:"time"`
	Trigger    string    `json:"trigger"`
	Set        string    `json:"set"`
	Result     string    `json:"result"`
	Error      string    `json:"error"`
	RTOSeconds float64   `json:"rto_seconds"`
	RPOSeconds float64   `json:"rpo_seconds"`
	Databases  map[string]struct {
		ManifestKeys   uint64 `json:"manifest_keys"`
		Keys           uint64 `json:"keys"`
		ContentChecked bool   `json:"content_checked"`
	} `json:"databases"`
}

// drillSetup writes the sample data into a server's directories and takes
// a verified set of it into the server's catalog; it returns the set's id.
func drillSetup(t *testing.T) (serverDirs, string) {
	t.Helper()
	return drillSetupWith(t, sampleData())
}

// drillSetupWith is drillSetup with data of the test's own.
func drillSetupWith(t *testing.T, data dataset) (serverDirs, string) {
	t.Helper()
	dirs := newServerDirs(t)
	for _, name := range dbNames {
		writeDB(t, map[string]string{"auth": dirs.auth, "config": dirs.config, "logs": dirs.logs}[name], data.of(name))
	}
	mustFlowg(t, dirs.root, "admin", "backups", "create", "--backup-dir", dirs.backups,
		"--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs, "--verify")
	sets := offlineSets(t, dirs.backups)
	if len(sets) != 1 || sets[0].Label != "restore-verified" {
		t.Fatalf("want one restore-verified set, got %v", sets)
	}
	return dirs, sets[0].ID
}

// drillRecords reads the drill records of a local catalog, oldest first.
func drillRecords(t testing.TB, catalog string) []drillRecord {
	t.Helper()
	var recs []drillRecord
	for _, name := range entries(t, filepath.Join(catalog, "drills")) {
		var r drillRecord
		if err := json.Unmarshal(readFile(t, filepath.Join(catalog, "drills", name)), &r); err != nil {
			t.Fatalf("drill record %s: %v", name, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// requireEmptyDir fails t unless dir exists and holds nothing: the drill
// removed its scratch copy.
func requireEmptyDir(t testing.TB, dir string) {
	t.Helper()
	if left := entries(t, dir); len(left) != 0 {
		t.Errorf("%s still holds %v after the drill; want the scratch copy removed", dir, left)
	}
}

// plainMetric reads the label-less series name from the server's /metrics.
func plainMetric(t testing.TB, s *flowgServer, name string) float64 {
	t.Helper()
	r := s.send(t, http.MethodGet, "/metrics", "", nil, "")
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s %s: %v", name, v, err)
			}
			return f
		}
	}
	t.Fatalf("GET /metrics has no %s", name)
	return 0
}

func TestDrill_RestoresServesChecksAndRecordsTheNewestVerifiedSet(t *testing.T) {
	dirs, id := drillSetup(t)
	work := filepath.Join(dirs.root, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	r := mustFlowg(t, dirs.root, "admin", "drill", "--backup-dir", dirs.backups, "--work-dir", work, "--json")
	var rec drillRecord
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("--json output: %v\n%s", err, r)
	}
	if rec.Result != "ok" || rec.Set != id || rec.Trigger != "manual" || rec.Error != "" {
		t.Errorf("drill = result %q, set %q, trigger %q, error %q; want ok on set %s, manual", rec.Result, rec.Set, rec.Trigger, rec.Error, id)
	}
	if rec.RTOSeconds <= 0 || rec.RTOSeconds > 60 || rec.RPOSeconds <= 0 {
		t.Errorf("RTO %fs, RPO %fs; want both > 0 (and the RTO of a small set under a minute)", rec.RTOSeconds, rec.RPOSeconds)
	}
	data := sampleData()
	for _, name := range dbNames {
		db := rec.Databases[name]
		want := uint64(len(data.of(name)))
		if db.Keys != want || db.ManifestKeys != want || !db.ContentChecked {
			t.Errorf("%s: %d keys, manifest %d, content checked %v; want %d keys, content checked", name, db.Keys, db.ManifestKeys, db.ContentChecked, want)
		}
	}
	requireEmptyDir(t, work)
	recs := drillRecords(t, dirs.backups)
	if len(recs) != 1 || recs[0].Result != "ok" || recs[0].Set != id || recs[0].RTOSeconds != rec.RTOSeconds {
		t.Fatalf("drill records = %+v; want the one drill printed", recs)
	}

	// Text output: the set, RTO, RPO and result; the catalog still lists just the set.
	r = mustFlowg(t, dirs.root, "admin", "drill", "--backup-dir", dirs.backups, "--work-dir", work)
	for _, want := range []string{"drill ok: set " + id, "RTO ", "RPO ", "logs   303 keys (manifest: 303): key count and content sum checked"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r)
		}
	}
	requireEmptyDir(t, work)
	if sets := offlineSets(t, dirs.backups); len(sets) != 1 {
		t.Errorf("the catalog lists %v after two drills; want only set %s", sets, id)
	}
	last := drillRecords(t, dirs.backups)[1]

	// A server on that catalog exports the last drill.
	s := startServer(t, dirs)
	if got := plainMetric(t, s, "flowg_drill_last_success"); got != 1 {
		t.Errorf("flowg_drill_last_success = %v, want 1", got)
	}
	if got := plainMetric(t, s, "flowg_drill_last_rto_seconds"); math.Abs(got-last.RTOSeconds) > 1e-6 {
		t.Errorf("flowg_drill_last_rto_seconds = %v, want %v", got, last.RTOSeconds)
	}
	if got := plainMetric(t, s, "flowg_drill_last_timestamp_seconds"); math.Abs(got-unixOf(last.Time)) > 1e-3 {
		t.Errorf("flowg_drill_last_timestamp_seconds = %v, want %v", got, unixOf(last.Time))
	}
}

// A server started on an auth database without users creates user root:
// the drill checks the databases as restored, before its server writes.
func TestDrill_PassesOnAnAuthDatabaseWithoutUsers(t *testing.T) {
	data := sampleData()
	data.auth = content{"role/viewer": {Value: `{"scopes":["read_streams"]}`}}
	dirs, id := drillSetupWith(t, data)
	r := mustFlowg(t, dirs.root, "admin", "drill", "--backup-dir", dirs.backups, "--work-dir", dirs.root)
	if !strings.Contains(r.stdout, "drill ok: set "+id) || !strings.Contains(r.stdout, "auth   1 key (manifest: 1)") {
		t.Errorf("want the drill of set %s to pass with auth's one key:\n%s", id, r)
	}
}

func TestDrill_AFailedDrillExitsOneAndIsRecorded(t *testing.T) {
	for _, tt := range []struct {
		name    string
		spoil   func(t *testing.T, dirs serverDirs, id string)
		args    []string
		inError string
	}{
		{
			name:    "a flipped byte in a restore-verified set",
			spoil:   func(t *testing.T, dirs serverDirs, id string) { damage(t, filepath.Join(dirs.backups, id, "log.db")) },
			inError: "restore logs of set",
		},
		{
			name: "a truncated file in the set named",
			spoil: func(t *testing.T, dirs serverDirs, id string) {
				if err := os.Truncate(filepath.Join(dirs.backups, id, "config.db"), 100); err != nil {
					t.Fatal(err)
				}
			},
			args:    []string{"--set", "ID"},
			inError: "is incomplete: config.db is 100 bytes",
		},
		{
			name:    "a server slower than --serve-timeout",
			args:    []string{"--serve-timeout", "1ms"},
			inError: "within 1ms",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dirs, id := drillSetup(t)
			if tt.spoil != nil {
				tt.spoil(t, dirs, id)
			}
			work := filepath.Join(dirs.root, "work")
			if err := os.Mkdir(work, 0o700); err != nil {
				t.Fatal(err)
			}
			args := []string{"admin", "drill", "--backup-dir", dirs.backups, "--work-dir", work, "--json"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "ID", id))
			}
			r := flowg(t, dirs.root, args...)
			if r.code != 1 {
				t.Fatalf("exit code %d, want 1:\n%s", r.code, r)
			}
			var rec drillRecord
			if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
				t.Fatalf("--json output: %v\n%s", err, r)
			}
			if rec.Result != "failed" || rec.Set != id || !strings.Contains(rec.Error, tt.inError) {
				t.Errorf("drill = result %q, set %q, error %q; want failed on set %s, error with %q", rec.Result, rec.Set, rec.Error, id, tt.inError)
			}
			if !strings.Contains(r.stderr, "flowg: drill ") || !strings.Contains(r.stderr, tt.inError) || !strings.Contains(r.stderr, "next: ") {
				t.Errorf("stderr does not say why the drill failed (%q) and what to do:\n%s", tt.inError, r)
			}
			requireEmptyDir(t, work)
			recs := drillRecords(t, dirs.backups)
			if len(recs) != 1 || recs[0].Result != "failed" || recs[0].Error != rec.Error || recs[0].RTOSeconds != 0 {
				t.Fatalf("drill records = %+v; want the failed drill, without an RTO", recs)
			}
			s := startServer(t, dirs)
			if got := plainMetric(t, s, "flowg_drill_last_success"); got != 0 {
				t.Errorf("flowg_drill_last_success = %v, want 0", got)
			}
			if got := plainMetric(t, s, "flowg_drill_last_timestamp_seconds"); math.Abs(got-unixOf(recs[0].Time)) > 1e-3 {
				t.Errorf("flowg_drill_last_timestamp_seconds = %v, want %v", got, unixOf(recs[0].Time))
			}
		})
	}
}

func TestDrill_ServeRunsItOnASchedule(t *testing.T) {
	dirs, id := drillSetup(t)
	s := startServer(t, dirs, "--backup-drill", "@every 1s")
	waitForLog(t, s, time.Minute, "scheduled drill done")
	recs := drillRecords(t, dirs.backups)
	if len(recs) == 0 || recs[0].Result != "ok" || recs[0].Trigger != "scheduled" || recs[0].Set != id {
		t.Fatalf("drill records = %+v; want a passed scheduled drill of set %s", recs, id)
	}
	if got := plainMetric(t, s, "flowg_drill_last_success"); got != 1 {
		t.Errorf("flowg_drill_last_success = %v, want 1", got)
	}
	if got := plainMetric(t, s, "flowg_drill_last_rto_seconds"); got <= 0 {
		t.Errorf("flowg_drill_last_rto_seconds = %v, want > 0", got)
	}
}

func TestDrill_RefusesBadUsage(t *testing.T) {
	root := t.TempDir()
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"admin", "drill", "--serve-timeout", "0s"}, "--serve-timeout 0s: give how long"},
		{[]string{"admin", "drill", "--set", "../etc"}, `--set "../etc" is not a set id`},
		{[]string{"serve", "--backup-drill", "every day"}, "--backup-drill: schedule"},
		{[]string{"serve", "--backup-drill-work-dir", root}, "--backup-drill-work-dir is for scheduled drills"},
	} {
		r := flowg(t, root, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.wantErr) || r.stdout != "" {
			t.Errorf("want exit 2, empty stdout, stderr with %q:\n%s", tt.wantErr, r)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "backups")); !os.IsNotExist(err) {
		t.Errorf("a refused drill created %s (%v)", filepath.Join(root, "backups"), err)
	}
	// A catalog with no set at all (a mistyped --backup-dir) fails, and is not created.
	r := flowg(t, root, "admin", "drill", "--backup-dir", "./mistyped")
	if r.code != 1 || !strings.Contains(r.stderr, "./mistyped holds no backup set") || !strings.Contains(r.stderr, "no drill was recorded") {
		t.Errorf("want exit 1 saying the catalog holds no set and no drill was recorded:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(root, "mistyped")); !os.IsNotExist(err) {
		t.Errorf("a drill of an empty catalog created it (%v)", err)
	}
}

func TestDrill_S3CatalogKeepsItsRecordInTheBucket(t *testing.T) {
	m := startMinio(t)
	root, bucket := t.TempDir(), m.bucket(t)
	writeDataset(t, root, sampleData())
	id := m.backupToS3(t, root, bucket, "--verify")
	work := filepath.Join(root, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	r := mustS3Flowg(t, root, with(with([]string{"admin", "drill", "--work-dir", work, "--json"}, m.target(bucket)...))...)
	var rec drillRecord
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("--json output: %v\n%s", err, r)
	}
	if rec.Result != "ok" || rec.Set != id || rec.RTOSeconds <= 0 {
		t.Fatalf("drill = result %q, set %q, RTO %f; want ok on set %s with an RTO", rec.Result, rec.Set, rec.RTOSeconds, id)
	}
	requireEmptyDir(t, work)
	var records []string
	for key := range m.objects(t, bucket, s3Prefix+"/drills/") {
		records = append(records, key)
	}
	if len(records) != 1 {
		t.Fatalf("bucket holds drill records %v, want one", records)
	}
	var stored drillRecord
	if err := json.Unmarshal(m.get(t, bucket, records[0]), &stored); err != nil || stored.RTOSeconds != rec.RTOSeconds || stored.Result != "ok" {
		t.Errorf("stored record %s = %+v (%v); want the drill printed", records[0], stored, err)
	}
	if sets := m.listSets(t, bucket); len(sets) != 1 || sets[0].ID != id {
		t.Errorf("the catalog lists %+v after the drill; want only set %s", sets, id)
	}
}

func TestDrill_EncryptedSetNeedsItsKeyAndAMissingKeyIsNotRecorded(t *testing.T) {
	root := t.TempDir()
	writeDataset(t, root, sampleData())
	keys := writeAgeKeys(t, root, "recipient")
	catalog := filepath.Join(root, "backups")
	mustFlowg(t, root, with(with([]string{"admin", "backups", "create", "--backup-dir", catalog, "--verify",
		"--auth-dir", dataDir(root, "auth"), "--config-dir", dataDir(root, "config"), "--log-dir", dataDir(root, "logs")},
		keys.encrypt...), keys.decrypt...)...)
	drill := []string{"admin", "drill", "--backup-dir", catalog, "--work-dir", root}
	for _, tt := range []struct {
		name string
		keys []string
	}{{"no key", nil}, {"a wrong key", keys.wrong}} {
		r := flowg(t, root, with(drill, tt.keys...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "no drill was recorded") {
			t.Errorf("%s: want exit 1 saying no drill was recorded:\n%s", tt.name, r)
		}
		if _, err := os.Stat(filepath.Join(catalog, "drills")); !os.IsNotExist(err) {
			t.Fatalf("%s: a drill without the key was recorded (%v); it says nothing about the set", tt.name, err)
		}
	}
	r := mustFlowg(t, root, with(drill, keys.decrypt...)...)
	if !strings.Contains(r.stdout, "drill ok: set ") {
		t.Errorf("with the key, want the drill to pass:\n%s", r)
	}
	if recs := drillRecords(t, catalog); len(recs) != 1 || recs[0].Result != "ok" {
		t.Errorf("drill records = %+v, want the one passed drill", recs)
	}
	for _, left := range entries(t, root) {
		if strings.HasPrefix(left, "flowg-drill-") {
			t.Errorf("scratch directory %s left in the work dir", left)
		}
	}
}
