package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// `flowg serve --backup-dir s3://BUCKET/flowg` against a real MinIO: sets
// written through the API land in the bucket and are listed and verified
// there, the online restore's safety snapshots too, restoring one of them by
// id undoes the restore, a set's file downloads as a backup `flowg admin
// verify` accepts, incremental sets chain in the bucket, and with
// --encrypt-passphrase-file every object is age ciphertext that still
// verifies and restores through the API.

// setS3ServerEnv gives the servers the test starts (they inherit the test's
// environment) the MinIO credentials, and removes every other variable that
// could choose S3 credentials or settings. t.Setenv makes t sequential; its
// subtests may still run in parallel with each other.
func setS3ServerEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_REGION", "AWS_PROFILE",
		"FLOWG_S3_ENDPOINT", "FLOWG_S3_REGION", "FLOWG_S3_INSECURE", "FLOWG_BACKUP_DIR"} {
		if _, ok := os.LookupEnv(v); ok {
			t.Setenv(v, "") // restored when t ends
			os.Unsetenv(v)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", minioUser)
	t.Setenv("AWS_SECRET_ACCESS_KEY", minioPassword)
}

// chainSet is a set as GET /api/v1/backups answers it, with the fields of
// incremental and encrypted sets.
type chainSet struct {
	catSet
	Parent     string `json:"parent"`
	Encryption string `json:"encryption"`
}

func (c chainSet) String() string {
	s := c.catSet.String()
	if c.Parent != "" {
		s += " (builds on " + c.Parent + ")"
	}
	if c.Encryption != "" {
		s += " [" + c.Encryption + "]"
	}
	return s
}

// apiSets lists the server's sets through the API, newest first, and fails
// t unless the answer names catalog as the server's catalog.
func apiSets(t testing.TB, s *flowgServer, authz, catalog string) []chainSet {
	t.Helper()
	var list struct {
		Catalog string     `json:"catalog"`
		Backups []chainSet `json:"backups"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", authz, nil).decode(t, &list)
	if list.Catalog != catalog {
		t.Fatalf("GET /api/v1/backups names the catalog %q, want %q", list.Catalog, catalog)
	}
	return list.Backups
}

// findChainSet returns set id of sets, failing t if it is not listed.
func findChainSet(t testing.TB, sets []chainSet, id string) chainSet {
	t.Helper()
	for _, s := range sets {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("set %s is not listed; the list: %v", id, sets)
	return chainSet{}
}

// createSet makes a set with POST /api/v1/backups?query and requires 201.
func createSet(t testing.TB, s *flowgServer, authz, query string) chainSet {
	t.Helper()
	path := "/api/v1/backups"
	if query != "" {
		path += "?" + query
	}
	var set chainSet
	s.must(t, http.StatusCreated, http.MethodPost, path, authz, nil).decode(t, &set)
	if set.ID == "" || set.Status != "complete" {
		t.Fatalf("POST %s answered %v, want a complete set", path, set)
	}
	return set
}

// storedManifest is the part of a manifest.json, read from the bucket or
// the catalog directory, that these tests check.
type storedManifest struct {
	ID         string                   `json:"id"`
	Trigger    string                   `json:"trigger"`
	Parent     string                   `json:"parent"`
	Encryption string                   `json:"encryption"`
	Databases  map[string]storedDBEntry `json:"databases"`
}

// storedDBEntry is one database's entry in a stored manifest.
type storedDBEntry struct {
	File          string `json:"file"`
	Bytes         int64  `json:"bytes"`
	Keys          uint64 `json:"keys"`
	ReadTs        uint64 `json:"read_ts"`
	SHA256        string `json:"sha256"`
	PlainSHA256   string `json:"plain_sha256"`
	SinceTs       uint64 `json:"since_ts"`
	InventoryKeys uint64 `json:"inventory_keys"`
}

func parseStoredManifest(t testing.TB, what string, b []byte) storedManifest {
	t.Helper()
	var m storedManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b)
	}
	return m
}

// curl runs curl -sS with the Authorization header authz and args in dir,
// appending -w '\n%{http_code}', and returns what the server answered (the
// body, or nothing with --output) and the status. curl must exit 0.
func curl(t testing.TB, dir, authz string, args ...string) (string, string) {
	t.Helper()
	r := command(t, dir, 2*time.Minute, "curl", append([]string{"-sS", "-H", "Authorization: " + authz, "-w", "\n%{http_code}"}, args...)...)
	if r.code != 0 {
		t.Fatalf("curl failed:\n%s", r)
	}
	return splitStatus(r.stdout)
}

// curlJSON runs curl and requires status want; it decodes the body into v.
func curlJSON(t testing.TB, dir, authz string, want string, v any, args ...string) {
	t.Helper()
	body, status := curl(t, dir, authz, args...)
	if status != want {
		t.Fatalf("curl %s: status %s, want %s:\n%s", strings.Join(args, " "), status, want, body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("curl %s: decode the answer: %v\n%s", strings.Join(args, " "), err, body)
		}
	}
}

// setRestoreAnswer is the answer of POST /api/v1/backups/:id/restore.
type setRestoreAnswer struct {
	Set      string          `json:"set"`
	Mode     string          `json:"mode"`
	Restores []restoreAnswer `json:"restores"`
	Warnings []string        `json:"warnings"`
}

// curlRestoreSet restores set id with curl -X POST .../restore?query and
// requires every database of dbs restored in the mode the query asks for.
func curlRestoreSet(t testing.TB, s *flowgServer, authz, id, query string, dbs ...string) setRestoreAnswer {
	t.Helper()
	var a setRestoreAnswer
	curlJSON(t, s.dirs.client, authz, "200", &a, "-X", "POST", s.url+"/api/v1/backups/"+id+"/restore?"+query)
	wipe := strings.Contains(query, "wipe=true")
	if a.Set != id || len(a.Restores) != len(dbs) {
		t.Fatalf("restore of set %s answered %+v, want %d restores (%v)", id, a, len(dbs), dbs)
	}
	for i, db := range dbs {
		if strings.Contains(query, "no_safety_snapshot=true") {
			mode := map[bool]string{false: "merge", true: "wipe"}[wipe]
			if r := a.Restores[i]; r.Database != db || r.Mode != mode || r.SafetySnapshot != "" {
				t.Fatalf("restore %d of set %s: %+v, want %s in mode %s without a safety snapshot", i, id, r, db, mode)
			}
			continue
		}
		checkRestoreAnswer(t, a.Restores[i], db, wipe)
	}
	return a
}

// TestS3Server_BacksUpRestoresAndUndoesThroughTheAPIInABucket runs `flowg
// serve` with its catalog in a MinIO bucket, once in the clear and once
// encrypted with a passphrase.
func TestS3Server_BacksUpRestoresAndUndoesThroughTheAPIInABucket(t *testing.T) {
	requirePrograms(t, "curl")
	m := startMinio(t)
	setS3ServerEnv(t)

	// POST /api/v1/backups?verify=true writes the set into the bucket (and
	// nothing on the local disk); the API and `flowg admin backups list`
	// both list it restore-verified; its logs file downloads with curl as a
	// file `flowg admin verify` accepts; an online restore with curl --form
	// leaves its safety snapshots in the bucket, its undo advice names them
	// by their real URL and its offline command works, and restoring them
	// by id undoes it; incremental sets in the bucket chain and restore.
	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		bucket, dirs := m.bucket(t), newServerDirs(t)
		catalog := "s3://" + bucket + "/" + s3Prefix
		s := startServer(t, dirs, m.target(bucket)...)
		root := s.rootJWT(t)
		writeBaseData(t, s, root)
		base := s.readEverything(t, root)

		set := createSet(t, s, root, "verify=true")
		if set.Label != "restore-verified" || set.Trigger != "manual" || set.Parent != "" || len(set.Databases) != 3 {
			t.Fatalf("POST /api/v1/backups?verify=true answered %v; want a full manual set of the three databases, restore-verified", set)
		}
		objs := m.objects(t, bucket, "")
		if got, want := sortedKeys(objs), s3SetKeys(set.ID); !slices.Equal(got, want) {
			t.Fatalf("the bucket holds %v, want the set's objects %v", got, want)
		}
		man := m.manifestOf(t, bucket, set.ID)
		if man.Status != "complete" || man.Verification == nil || !man.Verification.OK || man.Encryption != "" {
			t.Errorf("the set's manifest in the bucket: status %q, verification %+v, encryption %q; want complete, ok, none",
				man.Status, man.Verification, man.Encryption)
		}
		for _, db := range dbNames {
			e := man.Databases[db]
			obj := objs[s3Prefix+"/"+set.ID+"/"+backupFileName(db)]
			if e.File != backupFileName(db) || obj.Size != e.Bytes || obj.SHA256 == "" || obj.SHA256 != e.SHA256 {
				t.Errorf("%s: manifest entry %+v, object %+v; want the object's size and sha256 metadata as the manifest says", db, e, obj)
			}
		}
		if _, err := os.Stat(dirs.backups); !os.IsNotExist(err) {
			t.Errorf("with --backup-dir %s the server wrote into the local directory %s (stat: %v)", catalog, dirs.backups, err)
		}
		if got := findChainSet(t, apiSets(t, s, root, catalog), set.ID); got.Label != "restore-verified" {
			t.Errorf("GET /api/v1/backups lists %v, want restore-verified", got)
		}
		if offline := m.listSets(t, bucket); len(offline) != 1 || offline[0].ID != set.ID || offline[0].Label != "restore-verified" {
			t.Errorf("flowg admin backups list --backup-dir %s --json = %+v, want the one set %s, restore-verified", catalog, offline, set.ID)
		}

		// The set's files, downloaded with curl; logs is checked by `flowg
		// admin verify` and against the manifest's SHA-256.
		work := s.dirs.client
		for _, db := range dbNames {
			file := backupFileName(db)
			if body, status := curl(t, work, root, "--output", file, s.url+"/api/v1/backups/"+set.ID+"/"+db); status != "200" {
				t.Fatalf("GET /api/v1/backups/%s/%s: status %s, want 200 %s", set.ID, db, status, body)
			}
			if got := hexSHA256(readFile(t, filepath.Join(work, file))); got != man.Databases[db].SHA256 {
				t.Fatalf("the downloaded %s hashes to %s, the manifest says %s", file, got, man.Databases[db].SHA256)
			}
		}
		r := mustFlowg(t, work, "admin", "verify", "log.db")
		requireContains(t, "flowg admin verify log.db", r.stdout, "ok")

		// An online restore of the three files with curl --form, in wipe
		// mode, after the data changed.
		changeAfterBackupAPI(t, s, root)
		changed := s.readEverything(t, root)
		pre := map[string]string{}   // database -> its pre_restore set
		undos := map[string]string{} // database -> the answer's undo advice
		for _, db := range dbNames {
			var a struct {
				restoreAnswer
				Undo string `json:"undo"`
			}
			curlJSON(t, work, root, "200", &a, "-X", "POST", "--form", "backup=@"+backupFileName(db), s.url+restorePath(db, true))
			checkRestoreAnswer(t, a.restoreAnswer, db, true)
			if want := catalog + "/" + a.SafetySnapshot; a.SafetySnapshotDir != want {
				t.Errorf("restore of %s: safety_snapshot_dir %q, want %q", db, a.SafetySnapshotDir, want)
			}
			// The undo advice names the snapshot where it is: the bucket's
			// URL, never a path made of it (s3:/bucket/...).
			if !strings.Contains(a.Undo, "/api/v1/backups/"+a.SafetySnapshot+"/restore?wipe=true") || strings.Contains(a.Undo, "s3:/"+bucket) {
				t.Errorf("restore of %s: undo %q; want the restore of %s by id, and %s/%s/... never mangled into s3:/%s/...",
					db, a.Undo, a.SafetySnapshot, catalog, a.SafetySnapshot, bucket)
			}
			pre[db] = a.SafetySnapshot
			undos[db] = a.Undo
		}
		requireWiped(t, s, root, base)

		// The undo advice's offline command, run as its user would against
		// this MinIO (adding --s3-endpoint and --s3-insecure) into a drill
		// directory, restores the safety snapshot of logs.
		_, offline, found := strings.Cut(undos["logs"], "`flowg admin restore ")
		offline, _, _ = strings.Cut(offline, "`")
		if !found || offline == "" {
			t.Errorf("the undo advice of the logs restore names no `flowg admin restore` command: %q", undos["logs"])
		} else {
			drill := t.TempDir()
			args := with(with(append([]string{"admin", "restore"}, strings.Fields(offline)...), "--s3-endpoint", m.addr, "--s3-insecure"), s3DataFlags...)
			if r := s3Flowg(t, drill, rootCreds, args...); r.code != 0 {
				t.Errorf("the undo advice's offline command failed against the bucket:\n%s", r)
			} else if got := readDB(t, dataDir(drill, "logs")); len(got) == 0 {
				t.Errorf("the undo advice's offline command restored an empty logs database into %s", drill)
			}
		}

		// Each restore left a pre_restore set of its database in the bucket.
		sets := apiSets(t, s, root, catalog)
		for _, db := range dbNames {
			id := pre[db]
			got := findChainSet(t, sets, id)
			if got.Trigger != "pre_restore" || got.By != "root" || got.Label != "created, not restore-verified" || len(got.Databases) != 1 || got.Databases[db].File == "" {
				t.Errorf("the safety snapshot of %s is listed %v; want a pre_restore set of %s by root, created", db, got, db)
			}
			keys := sortedKeys(m.objects(t, bucket, s3Prefix+"/"+id+"/"))
			if want := []string{s3Prefix + "/" + id + "/" + backupFileName(db), s3Prefix + "/" + id + "/manifest.json"}; !slices.Equal(keys, want) {
				t.Errorf("the bucket holds %v for the safety snapshot of %s, want %v", keys, db, want)
			}
			key := s3Prefix + "/" + id + "/manifest.json"
			if pm := parseStoredManifest(t, key, m.get(t, bucket, key)); pm.Trigger != "pre_restore" {
				t.Errorf("%s says trigger %q, want pre_restore", key, pm.Trigger)
			}
		}

		// Restoring the pre_restore sets by id undoes the restore.
		for _, db := range dbNames {
			curlRestoreSet(t, s, root, pre[db], "wipe=true", db)
		}
		requireSameData(t, "after restoring the pre_restore sets", changed, s.readEverything(t, root))

		// Incremental sets in the bucket. Every database was just rebuilt by
		// a wipe restore, so the first starts a new chain; the next builds on
		// it and, after more changes, restores by id to the data as it was
		// taken.
		first := createSet(t, s, root, "incremental=true")
		if first.Parent != "" {
			t.Errorf("the first ?incremental=true set after the wipe restores, %v, builds on %s; want a full set", first, first.Parent)
		}
		s.putDoc(t, root, "/api/v1/pipelines/ingest", `{"version":3}`)
		s.ingest(t, root, "late", map[string]any{"id": "l-2"})
		s.must(t, http.StatusOK, http.MethodDelete, "/api/v1/pipelines/late", root, nil)
		atInc := s.readEverything(t, root)
		inc := createSet(t, s, root, "incremental=true")
		key := s3Prefix + "/" + inc.ID + "/manifest.json"
		if im := parseStoredManifest(t, key, m.get(t, bucket, key)); inc.Parent != first.ID || im.Parent != first.ID {
			t.Errorf("the next ?incremental=true set %v (manifest: parent %q) does not build on %s", inc, im.Parent, first.ID)
		}
		s.putDoc(t, root, "/api/v1/pipelines/ingest", `{"version":4}`)
		s.putDoc(t, root, "/api/v1/pipelines/late", `{"back":"after the set"}`)
		curlRestoreSet(t, s, root, inc.ID, "wipe=true", dbNames...)
		requireSameData(t, "after the wipe restore of the incremental set "+inc.ID, atInc, s.readEverything(t, root))
		if _, err := os.Stat(dirs.backups); !os.IsNotExist(err) {
			t.Errorf("the restores wrote into the local directory %s (stat: %v)", dirs.backups, err)
		}
	})

	// With --encrypt-passphrase-file: every object the set and the safety
	// snapshots store is age ciphertext without the data's marker, the
	// manifest says "encryption": "age", and the set verifies and restores
	// through the API.
	t.Run("encrypted with a passphrase", func(t *testing.T) {
		t.Parallel()
		bucket, dirs := m.bucket(t), newServerDirs(t)
		catalog := "s3://" + bucket + "/" + s3Prefix
		const passphrase = "correct horse battery staple for flowg serve"
		passFile := filepath.Join(dirs.root, "passphrase")
		if err := os.WriteFile(passFile, []byte(passphrase+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, dirs, with(m.target(bucket), "--encrypt-passphrase-file", passFile)...)
		root := s.rootJWT(t)
		writeBaseData(t, s, root)
		// The marker in each database.
		s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/"+plaintextMarker, root, map[string]any{"scopes": []string{"read_streams"}})
		s.putDoc(t, root, "/api/v1/alerts/marker", `{"note":"`+plaintextMarker+`"}`)
		s.ingest(t, root, "marker", map[string]any{"id": "m-1", "msg": plaintextMarker})
		base := s.readEverything(t, root)

		set := createSet(t, s, root, "verify=true")
		if set.Label != "restore-verified" || set.Encryption != "age" || len(set.Databases) != 3 {
			t.Fatalf("POST /api/v1/backups?verify=true on an encrypting server answered %v; want the three databases, age, restore-verified", set)
		}
		manifestKey := s3Prefix + "/" + set.ID + "/manifest.json"
		manifestBytes := m.get(t, bucket, manifestKey)
		requireEncryptedManifest(t, "s3://"+bucket+"/"+manifestKey, manifestBytes, dbNames)
		man := parseStoredManifest(t, manifestKey, manifestBytes)
		for _, db := range dbNames {
			key := s3Prefix + "/" + set.ID + "/" + backupFileName(db)
			stored := m.get(t, bucket, key)
			requireCiphertext(t, "s3://"+bucket+"/"+key, stored)
			if got := hexSHA256(stored); got != man.Databases[db].SHA256 {
				t.Errorf("%s hashes to %s, the manifest says %s", key, got, man.Databases[db].SHA256)
			}
		}
		// Inside the ciphertext is the backup file the manifest describes.
		key := s3Prefix + "/" + set.ID + "/config.db"
		plain := decryptWithPassphrase(t, key, m.get(t, bucket, key), passphrase)
		if got := hexSHA256(plain); got != man.Databases["config"].PlainSHA256 {
			t.Errorf("%s decrypts to a file hashing to %s, the manifest's plain_sha256 is %s", key, got, man.Databases["config"].PlainSHA256)
		}
		if err := os.WriteFile(filepath.Join(dirs.client, "config.db"), plain, 0o600); err != nil {
			t.Fatal(err)
		}
		mustFlowg(t, dirs.client, "admin", "verify", "config.db")
		if offline := m.listSets(t, bucket); len(offline) != 1 || offline[0].Encryption != "age" || offline[0].Label != "restore-verified" {
			t.Errorf("flowg admin backups list --json = %+v, want the one set, age, restore-verified", offline)
		}

		changeAfterBackupAPI(t, s, root)
		a := curlRestoreSet(t, s, root, set.ID, "wipe=true", dbNames...)
		requireWiped(t, s, root, base)
		// The safety snapshots are encrypted too.
		for _, r := range a.Restores {
			got := findChainSet(t, apiSets(t, s, root, catalog), r.SafetySnapshot)
			if got.Trigger != "pre_restore" || got.Encryption != "age" {
				t.Errorf("the safety snapshot of %s is listed %v, want a pre_restore set, age", r.Database, got)
			}
			key := s3Prefix + "/" + r.SafetySnapshot + "/" + backupFileName(r.Database)
			requireCiphertext(t, "s3://"+bucket+"/"+key, m.get(t, bucket, key))
		}
	})
}

// decryptWithPassphrase decrypts an age file encrypted to passphrase.
func decryptWithPassphrase(t testing.TB, what string, b []byte, passphrase string) []byte {
	t.Helper()
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(b), id)
	if err != nil {
		t.Fatalf("decrypt %s with the passphrase: %v", what, err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decrypt %s with the passphrase: %v", what, err)
	}
	return plain
}
