package integration

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestS3Catalog runs the offline commands against a catalog in a real MinIO
// bucket (one server for the file, one bucket per case): backup, list,
// verify, restore in both modes, retention and a corrupted object.
func TestS3Catalog(t *testing.T) {
	t.Parallel()
	m := startMinio(t)

	t.Run("backup --verify writes every object with its SHA-256 and lists the set restore-verified", func(t *testing.T) {
		t.Parallel()
		root, bucket := t.TempDir(), m.bucket(t)
		data := sampleData()
		writeDataset(t, root, data)

		id := m.backupToS3(t, root, bucket, "--verify")

		objs := m.objects(t, bucket, "")
		if got, want := sortedKeys(objs), s3SetKeys(id); !slices.Equal(got, want) {
			t.Fatalf("bucket holds %v, want %v", got, want)
		}
		man := m.manifestOf(t, bucket, id)
		if man.ID != id || man.Status != "complete" || man.Encryption != "" {
			t.Errorf("manifest says id %q, status %q, encryption %q; want %q, complete, none", man.ID, man.Status, man.Encryption, id)
		}
		if man.Verification == nil || !man.Verification.OK {
			t.Errorf("manifest verification = %+v, want ok after --verify", man.Verification)
		}
		for _, name := range dbNames {
			e, ok := man.Databases[name]
			file := backupFileName(name)
			if !ok || e.File != file {
				t.Fatalf("manifest entry of %s = %+v, want file %s", name, e, file)
			}
			obj := objs[s3Prefix+"/"+id+"/"+file]
			if e.Keys != uint64(len(data.of(name))) {
				t.Errorf("manifest: %s holds %d keys, want %d", name, e.Keys, len(data.of(name)))
			}
			if obj.Size != e.Bytes {
				t.Errorf("object %s is %d bytes, the manifest says %d", file, obj.Size, e.Bytes)
			}
			if obj.SHA256 == "" || obj.SHA256 != e.SHA256 {
				t.Errorf("object %s carries sha256 metadata %q, the manifest says %q", file, obj.SHA256, e.SHA256)
			}
			if got := hexSHA256(m.get(t, bucket, s3Prefix+"/"+id+"/"+file)); got != e.SHA256 {
				t.Errorf("object %s hashes to %s, the manifest says %s", file, got, e.SHA256)
			}
		}
		sets := m.listSets(t, bucket)
		if len(sets) != 1 || sets[0].ID != id || sets[0].Label != "restore-verified" {
			t.Fatalf("backups list --json = %+v, want the one set %s, restore-verified", sets, id)
		}
		for _, name := range dbNames {
			if _, ok := sets[0].Databases[name]; !ok {
				t.Errorf("the listed set has no %s database: %+v", name, sets[0])
			}
		}
		r := mustS3Flowg(t, root, with([]string{"admin", "backups", "list"}, m.target(bucket)...)...)
		if line := lineAfter(r.stdout, id); !strings.HasSuffix(line, "restore-verified") {
			t.Fatalf("backups list shows the set as %q, want it to end with restore-verified:\n%s", line, r)
		}
	})

	t.Run("restore merges or wipes, into fresh and into changed databases", func(t *testing.T) {
		t.Parallel()
		template, bucket := t.TempDir(), m.bucket(t)
		data := sampleData()
		writeDataset(t, template, data)
		m.backupToS3(t, template, bucket)
		changed := changeAfterBackup(t, template, data)
		restore := with(with([]string{"admin", "restore"}, s3DataFlags...), m.target(bucket)...)

		for _, tc := range []struct {
			name    string
			fresh   bool
			wipe    bool
			want    dataset
			outSays string
		}{
			{name: "merge into fresh databases", fresh: true, want: data, outSays: "merged from s3://" + bucket + "/flowg/"},
			{name: "wipe into fresh databases", fresh: true, wipe: true, want: data, outSays: "wiped and restored from s3://" + bucket + "/flowg/"},
			{name: "merge into changed databases", want: dataset{
				auth: union(changed.auth, data.auth), config: union(changed.config, data.config), logs: union(changed.logs, data.logs),
			}, outSays: "merged from s3://"},
			{name: "wipe into changed databases", wipe: true, want: data, outSays: "wiped and restored from s3://"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				root := t.TempDir()
				if !tc.fresh {
					root = clone(t, template)
				}
				args := restore
				if tc.wipe {
					args = with(args, "--wipe")
				}
				r := mustS3Flowg(t, root, args...)
				for _, name := range dbNames {
					requireContains(t, "stdout", r.stdout, name)
				}
				requireContains(t, "stdout", r.stdout, tc.outSays)
				requireDataset(t, "after the restore", root, tc.want)
			})
		}
	})

	t.Run("restore takes the newest complete set, or the one --set names", func(t *testing.T) {
		t.Parallel()
		root, bucket := t.TempDir(), m.bucket(t)
		older := sampleData()
		writeDataset(t, root, older)
		olderID := m.backupToS3(t, root, bucket)
		newer := changeAfterBackup(t, root, older)
		nextSecond()
		newerID := m.backupToS3(t, root, bucket)
		restore := with(with([]string{"admin", "restore"}, s3DataFlags...), m.target(bucket)...)

		fresh := t.TempDir()
		r := mustS3Flowg(t, fresh, with(restore, "--wipe")...)
		requireContains(t, "stdout", r.stdout, "/flowg/"+newerID+"/log.db")
		// Neither set is restore-verified: the newest complete one, with a warning.
		requireContains(t, "stderr", r.stderr, "no --set: picked set "+newerID, "warning: no restore-verified set holds auth, config, logs")
		requireDataset(t, "restored without --set", fresh, newer)

		r = mustS3Flowg(t, root, with(restore, "--wipe", "--set", olderID)...)
		requireContains(t, "stdout", r.stdout, "/flowg/"+olderID+"/log.db")
		requireDataset(t, "restored with --set "+olderID, root, older)
	})

	t.Run("a set written later in the same second is the newest", func(t *testing.T) {
		t.Parallel()
		// Set ids have one-second resolution and a random suffix: two sets of
		// one second must still list (and restore) in the order they were made.
		root, bucket := t.TempDir(), m.bucket(t)
		data := sampleData()
		backup := with(with([]string{"admin", "backup"}, s3DataFlags...), m.target(bucket)...)
		for attempt := range 8 {
			nextSecond()
			data.logs["log/which"] = record{Value: fmt.Sprintf("first of attempt %d", attempt)}
			writeDataset(t, root, data)
			first := setIDFrom(t, mustS3Flowg(t, root, backup...))
			data.logs["log/which"] = record{Value: fmt.Sprintf("second of attempt %d", attempt)}
			writeDataset(t, root, data)
			second := setIDFrom(t, mustS3Flowg(t, root, backup...))
			if first[:16] != second[:16] || second > first {
				continue // different seconds, or the ids happen to sort right: try again
			}
			t.Logf("attempt %d: %s was written after %s in the same second; its id sorts first", attempt, second, first)
			if sets := m.listSets(t, bucket); sets[0].ID != second {
				t.Errorf("backups list shows %s as the newest set, want %s, written after it in the same second (the catalog sorts by id, whose suffix is random; sort by the manifest's created time)", sets[0].ID, second)
			}
			fresh := t.TempDir()
			mustS3Flowg(t, fresh, with(with(with([]string{"admin", "restore"}, s3DataFlags...), m.target(bucket)...), "--only", "logs")...)
			if got, want := readDB(t, dataDir(fresh, "logs"))["log/which"].Value, data.logs["log/which"].Value; got != want {
				t.Errorf("restore without --set brought back log/which = %q, want %q from the newest set %s", got, want, second)
			}
			return
		}
		t.Logf("no two sets of one second came out in the wrong id order in 8 attempts; nothing to check")
	})

	t.Run("prune --keep deletes objects and manifest together, never the newest restore-verified set", func(t *testing.T) {
		t.Parallel()
		root, bucket := t.TempDir(), m.bucket(t)
		writeDataset(t, root, sampleData())
		var ids []string // oldest first
		for i := range 4 {
			if i > 0 {
				nextSecond()
			}
			var extra []string
			if i == 1 {
				extra = []string{"--verify"}
			}
			ids = append(ids, m.backupToS3(t, root, bucket, extra...))
		}
		verified := ids[1]
		prune := with([]string{"admin", "backups", "prune"}, m.target(bucket)...)
		before := m.objects(t, bucket, "")
		if len(before) != 16 {
			t.Fatalf("4 sets hold %d objects, want 16: %v", len(before), sortedKeys(before))
		}

		r := mustS3Flowg(t, root, with(prune, "--keep", "2", "--dry-run")...)
		if want := "would delete " + ids[0] + ": "; !strings.HasPrefix(r.stdout, want) || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("prune --keep 2 --dry-run printed %q, want one line starting %q", r.stdout, want)
		}
		requireObjectsUnchanged(t, m, bucket, before)

		for _, step := range []struct {
			keep    string
			deleted string
			left    []string // newest first
		}{
			{"2", ids[0], []string{ids[3], ids[2], verified}},
			{"1", ids[2], []string{ids[3], verified}},
		} {
			r := mustS3Flowg(t, root, with(prune, "--keep", step.keep)...)
			if want := "deleted " + step.deleted + ": "; !strings.HasPrefix(r.stdout, want) || strings.Count(r.stdout, "\n") != 1 {
				t.Fatalf("prune --keep %s printed %q, want one line starting %q", step.keep, r.stdout, want)
			}
			if gone := m.objects(t, bucket, s3Prefix+"/"+step.deleted+"/"); len(gone) != 0 {
				t.Fatalf("prune left objects of the deleted set %s: %v", step.deleted, sortedKeys(gone))
			}
			after := m.objects(t, bucket, "")
			var want []string
			for _, id := range step.left {
				want = append(want, s3SetKeys(id)...)
			}
			slices.Sort(want)
			if got := sortedKeys(after); !slices.Equal(got, want) {
				t.Fatalf("after prune --keep %s the bucket holds\n%v\nwant\n%v", step.keep, got, want)
			}
			for _, k := range want {
				if after[k] != before[k] && !strings.HasSuffix(k, "/manifest.json") {
					t.Fatalf("prune changed the kept object %s: %+v, was %+v", k, after[k], before[k])
				}
			}
			sets := m.listSets(t, bucket)
			var listed []string
			for _, s := range sets {
				listed = append(listed, s.ID)
			}
			if !slices.Equal(listed, step.left) {
				t.Fatalf("after prune --keep %s the list shows %v, want %v", step.keep, listed, step.left)
			}
			if l := labelsByID(sets)[verified]; l != "restore-verified" {
				t.Fatalf("the newest restore-verified set %s is listed %q after the prune", verified, l)
			}
		}
	})

	t.Run("a corrupted object fails backups verify and no restore uses it", func(t *testing.T) {
		t.Parallel()
		root, bucket := t.TempDir(), m.bucket(t)
		data := sampleData()
		writeDataset(t, root, data)
		id := m.backupToS3(t, root, bucket, "--verify")
		changed := changeAfterBackup(t, root, data)

		// Bit rot: one byte flipped, same size, same metadata.
		key := s3Prefix + "/" + id + "/log.db"
		info, err := m.client.StatObject(t.Context(), bucket, key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		body := m.get(t, bucket, key)
		body[len(body)/2] ^= 0x01
		_, err = m.client.PutObject(t.Context(), bucket, key, bytes.NewReader(body), int64(len(body)),
			minio.PutObjectOptions{ContentType: info.ContentType, UserMetadata: info.UserMetadata})
		if err != nil {
			t.Fatal(err)
		}
		before := m.objects(t, bucket, "")

		r := s3Flowg(t, root, rootCreds, with(with([]string{"admin", "backups", "verify"}, m.target(bucket)...), id)...)
		if r.code != 1 {
			t.Fatalf("want exit code 1 from verifying a corrupted set:\n%s", r)
		}
		requireContains(t, "stdout", r.stdout, id, "verify failed", "log.db")
		requireContains(t, "stderr", r.stderr, "verify failed: 1 of 1 sets are bad")
		sets := m.listSets(t, bucket)
		if len(sets) != 1 || sets[0].Label != "verify failed" || !strings.Contains(sets[0].Problem, "log.db") {
			t.Fatalf("backups list = %+v, want the set %s labelled verify failed, naming log.db", sets, id)
		}
		for k, o := range before {
			if after := m.objects(t, bucket, "")[k]; after != o && !strings.HasSuffix(k, "/manifest.json") {
				t.Fatalf("verify changed the object %s: %+v, was %+v", k, after, o)
			}
		}

		restore := with(with([]string{"admin", "restore"}, s3DataFlags...), m.target(bucket)...)
		for _, args := range [][]string{restore, with(restore, "--set", id), with(restore, "--set", id, "--wipe")} {
			data0 := fingerprint(t, filepath.Join(root, "data"))
			r := s3Flowg(t, root, rootCreds, args...)
			if r.code != 1 {
				t.Fatalf("want exit code 1 from a restore of the corrupted set:\n%s", r)
			}
			requireContains(t, "stderr", r.stderr, "flowg: restore refused", "safe:  nothing was written")
			if got := fingerprint(t, filepath.Join(root, "data")); got != data0 {
				t.Fatalf("a refused restore changed the data directory:\nbefore\n%s\nafter\n%s", data0, got)
			}
			requireDataset(t, "after the refused restore", root, changed)
		}
	})
}
