package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
)

// plaintextMarker is stored in every database; no encrypted backup file may
// show it.
const plaintextMarker = "plaintext-marker-5d1e0c-never-in-an-encrypted-file"

// markedData is the sample data with the marker in each database.
func markedData() dataset {
	d := sampleData()
	d.auth["user/marker"] = record{Value: `{"password":"` + plaintextMarker + `"}`}
	d.config["alert/marker"] = record{Value: plaintextMarker}
	d.logs["log/marker/1"] = record{Value: plaintextMarker}
	return d
}

// ageKeys are the keys of one encryption mode, written as files under a
// test's root: the flags that encrypt, the flags that decrypt, and flags
// with a key that does not; and the databases the mode is tried on.
type ageKeys struct {
	encrypt, decrypt, wrong []string
	// only (an --only flag) and dbs restrict the passphrase mode to the auth
	// database: age derives a passphrase's key with scrypt, about a second of
	// CPU for every file encrypted or read, which all three databases times
	// every step would take far beyond the tests' time budget.
	only []string
	dbs  []string
}

// writeAgeKeys writes the key files of mode ("passphrase" or "recipient")
// under root and returns the flags that use them (relative to root).
func writeAgeKeys(t testing.TB, root, mode string) ageKeys {
	t.Helper()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	switch mode {
	case "passphrase":
		write("passphrase", "correct horse battery staple for flowg\n")
		write("wrong-passphrase", "not the passphrase the backup was made with\n")
		return ageKeys{
			encrypt: []string{"--encrypt-passphrase-file", "passphrase"},
			decrypt: []string{"--encrypt-passphrase-file", "passphrase"},
			wrong:   []string{"--encrypt-passphrase-file", "wrong-passphrase"},
			only:    []string{"--only", "auth"},
			dbs:     []string{"auth"},
		}
	case "recipient":
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		other, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		write("identity", "# flowg backups\n"+id.String()+"\n")
		write("wrong-identity", other.String()+"\n")
		return ageKeys{
			encrypt: []string{"--encrypt-to", id.Recipient().String()},
			decrypt: []string{"--identity", "identity"},
			wrong:   []string{"--identity", "wrong-identity"},
			dbs:     dbNames,
		}
	}
	t.Fatalf("unknown mode %q", mode)
	return ageKeys{}
}

// requireCiphertext fails t unless the stored file is an age file that does
// not show the marker.
func requireCiphertext(t testing.TB, what string, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("age-encryption.org/v1\n")) {
		t.Errorf("%s does not start with the age header: %.40q", what, b)
	}
	if bytes.Contains(b, []byte(plaintextMarker)) || bytes.Contains(b, []byte("$argon2id$")) {
		t.Errorf("%s shows plaintext of the database", what)
	}
}

// TestS3Encryption backs up with --encrypt-passphrase-file and with
// --encrypt-to, into a local directory and into S3: no stored byte shows
// the data, the manifest says age, verify and restore without the key or
// with a wrong one fail clearly and change nothing, and with the key they
// work.
func TestS3Encryption(t *testing.T) {
	t.Parallel()
	m := startMinio(t)

	t.Run("an unencrypted backup shows the marker the encrypted ones must hide", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		writeDataset(t, root, markedData())
		mustFlowg(t, root, with(seedBackup, "--compression", "none")...)
		for _, f := range s3DataFiles {
			if !bytes.Contains(readFile(t, filepath.Join(root, "backup", f)), []byte(plaintextMarker)) {
				t.Fatalf("backup/%s written without encryption nor compression does not show the marker: the search proves nothing", f)
			}
		}
	})

	for _, mode := range []string{"passphrase", "recipient"} {
		t.Run(mode+"/local directory", func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			data := markedData()
			writeDataset(t, root, data)
			keys := writeAgeKeys(t, root, mode)
			backup, restore := with(seedBackup, keys.only...), with(seedRestore, keys.only...)

			mustFlowg(t, root, with(with(backup, "--compression", "none"), keys.encrypt...)...)
			for _, name := range keys.dbs {
				f := backupFileName(name)
				requireCiphertext(t, "backup/"+f, readFile(t, filepath.Join(root, "backup", f)))
			}
			requireEncryptedManifest(t, "backup/manifest.json", readFile(t, filepath.Join(root, "backup", "manifest.json")), keys.dbs)
			backupFiles := fingerprint(t, filepath.Join(root, "backup"))

			verify := []string{"admin", "verify", "--backup-dir", "./backup"}
			r := flowg(t, root, verify...)
			requireExitSaying(t, r, 3, "encrypted: give --identity")
			r = flowg(t, root, with(verify, keys.wrong...)...)
			requireExit1Saying(t, r, "no given identity decrypts")
			r = mustFlowg(t, root, with(verify, keys.decrypt...)...)
			for _, name := range keys.dbs {
				if line := lineAfter(r.stdout, backupFileName(name)); !strings.HasPrefix(line, "ok") {
					t.Errorf("verify with the key says %q about %s, want ok:\n%s", line, backupFileName(name), r)
				}
			}

			changed := changeAfterBackup(t, root, data)
			for _, args := range [][]string{restore, with(restore, "--wipe")} {
				requireRestoreRefused(t, root, args, 3, "--identity", changed, runLocalFlowg)
				requireRestoreRefused(t, root, with(args, keys.wrong...), 1, "no given identity decrypts", changed, runLocalFlowg)
			}
			mustFlowg(t, root, with(restore, keys.decrypt...)...)
			merged := restoredOnly(changed, dataset{
				auth: union(changed.auth, data.auth), config: union(changed.config, data.config), logs: union(changed.logs, data.logs),
			}, keys.dbs)
			requireDataset(t, "merged with the key", root, merged)
			mustFlowg(t, root, with(with(restore, "--wipe"), keys.decrypt...)...)
			requireDataset(t, "wiped and restored with the key", root, restoredOnly(merged, data, keys.dbs))
			if got := fingerprint(t, filepath.Join(root, "backup")); got != backupFiles {
				t.Fatalf("verify or restore changed the backup directory:\nbefore\n%s\nafter\n%s", backupFiles, got)
			}
		})

		t.Run(mode+"/s3", func(t *testing.T) {
			t.Parallel()
			root, bucket := t.TempDir(), m.bucket(t)
			data := markedData()
			writeDataset(t, root, data)
			keys := writeAgeKeys(t, root, mode)

			id := m.backupToS3(t, root, bucket, with(with([]string{"--compression", "none"}, keys.only...), keys.encrypt...)...)
			for _, name := range keys.dbs {
				key := s3Prefix + "/" + id + "/" + backupFileName(name)
				requireCiphertext(t, "s3://"+bucket+"/"+key, m.get(t, bucket, key))
			}
			manifestKey := s3Prefix + "/" + id + "/manifest.json"
			requireEncryptedManifest(t, "s3://"+bucket+"/"+manifestKey, m.get(t, bucket, manifestKey), keys.dbs)
			if sets := m.listSets(t, bucket); len(sets) != 1 || sets[0].Encryption != "age" {
				t.Fatalf("backups list --json = %+v, want one set with encryption age", sets)
			}

			verify := with([]string{"admin", "backups", "verify"}, m.target(bucket)...)
			for _, bad := range []struct {
				name  string
				flags []string
				code  int
				says  string
			}{
				{"no key", nil, 3, id + "  encrypted: give --identity"},
				{"a wrong key", keys.wrong, 1, "no given identity decrypts"},
			} {
				before := m.objects(t, bucket, "")
				r := s3Flowg(t, root, rootCreds, with(with(verify, bad.flags...), id)...)
				requireExitSaying(t, r, bad.code, bad.says)
				if l := labelsByID(m.listSets(t, bucket))[id]; l != "created, not restore-verified" {
					t.Errorf("verify with %s relabelled the set %q: a missing or wrong key says nothing about the set and must change nothing", bad.name, l)
				}
				after := m.objects(t, bucket, "")
				for k, o := range before {
					if after[k] != o {
						t.Errorf("verify with %s changed the object %s: %+v, was %+v", bad.name, k, after[k], o)
					}
				}
			}
			r := mustS3Flowg(t, root, with(with(verify, keys.decrypt...), id)...)
			requireContains(t, "stdout", r.stdout, id+"  restore-verified")
			if l := labelsByID(m.listSets(t, bucket))[id]; l != "restore-verified" {
				t.Fatalf("after verify with the key the set is listed %q, want restore-verified", l)
			}

			changed := changeAfterBackup(t, root, data)
			restore := with(with(with([]string{"admin", "restore", "--wipe"}, s3DataFlags...), keys.only...), m.target(bucket)...)
			s3run := func(t testing.TB, dir string, args ...string) result { return s3Flowg(t, dir, rootCreds, args...) }
			requireRestoreRefused(t, root, restore, 3, "--identity", changed, s3run)
			requireRestoreRefused(t, root, with(restore, keys.wrong...), 1, "no given identity decrypts", changed, s3run)
			mustS3Flowg(t, root, with(restore, keys.decrypt...)...)
			requireDataset(t, "restored with the key", root, restoredOnly(changed, data, keys.dbs))
		})
	}
}

// backupFileName is the file name of database name in a backup.
func backupFileName(name string) string {
	return map[string]string{"auth": "auth.db", "config": "config.db", "logs": "log.db"}[name]
}

// restoredOnly returns base with the databases dbs taken from restored.
func restoredOnly(base, restored dataset, dbs []string) dataset {
	out := base
	for _, name := range dbs {
		switch name {
		case "auth":
			out.auth = restored.auth
		case "config":
			out.config = restored.config
		case "logs":
			out.logs = restored.logs
		}
	}
	return out
}

// runLocalFlowg runs flowg for a local backup directory.
func runLocalFlowg(t testing.TB, dir string, args ...string) result { return flowg(t, dir, args...) }

// requireEncryptedManifest fails t unless the manifest says the set is
// encrypted with age, and each file of dbs is.
func requireEncryptedManifest(t testing.TB, what string, b []byte, dbs []string) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b)
	}
	if raw["encryption"] != "age" {
		t.Errorf(`%s says "encryption": %v, want "age"`, what, raw["encryption"])
	}
	man := parseS3Manifest(t, what, b)
	for _, name := range dbs {
		if e, ok := man.Databases[name]; !ok || !e.Encrypted {
			t.Errorf("%s: entry of %s = %+v, want encrypted", what, name, e)
		}
	}
	if bytes.Contains(b, []byte(plaintextMarker)) {
		t.Errorf("%s shows plaintext of the database", what)
	}
}

// requireExit1Saying fails t unless r exited 1 and said says. It goes on after
// a wrong message, so that later steps still run.
func requireExit1Saying(t testing.TB, r result, says string) {
	t.Helper()
	requireExitSaying(t, r, 1, says)
}

// requireExitSaying fails t unless r exited code and said says (see
// requireExit1Saying); 3 is the exit code of a key that is needed.
func requireExitSaying(t testing.TB, r result, code int, says string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit code %d:\n%s", code, r)
	}
	if !strings.Contains(r.stdout+r.stderr, says) {
		t.Errorf("the output does not say %q:\n%s", says, r)
	}
}

// requireRestoreRefused runs a restore that must fail (exit code, saying
// says and that nothing was written) and change no database: the same
// records, and no safety snapshot nor set-aside database beside them.
func requireRestoreRefused(t testing.TB, root string, args []string, code int, says string, want dataset, run func(testing.TB, string, ...string) result) {
	t.Helper()
	r := run(t, root, args...)
	requireExitSaying(t, r, code, says)
	if !strings.Contains(r.stderr, "nothing was written") {
		t.Errorf("stderr does not say that nothing was written:\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, "AGE-SECRET-KEY-") {
		t.Errorf("the output shows a secret key:\n%s", r)
	}
	if got := entries(t, filepath.Join(root, "data")); !slices.Equal(got, []string{"auth", "config", "logs"}) {
		t.Fatalf("after a refused restore the data directory holds %v", got)
	}
	requireDataset(t, "after the refused restore", root, want)
}
