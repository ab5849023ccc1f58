package backup

import (
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// TestBuildMerged_EncryptedAndRawFilesMergeAsThePlainFile: an age-encrypted
// copy of the file, and a raw Badger backup of the same records (which a
// merge converts first), rebuild the same database as the plain file does.
func TestBuildMerged_EncryptedAndRawFilesMergeAsThePlainFile(t *testing.T) {
	f := newRebuildFixture(t)
	root := t.TempDir()
	build := func(name, file string, opts RestoreOptions) dbContent {
		t.Helper()
		staged := filepath.Join(root, name)
		if _, err := prepareFile(t, file, opts).BuildMerged(t.Context(), MergeInto{From: f.dir, Staged: staged}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return contentOfDir(t, staged).withoutVersions()
	}
	want := build("plain", f.file, RestoreOptions{})

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := filepath.Join(root, "config.db.age")
	if err := os.WriteFile(encrypted, ageFile(t, id, plain, true, ""), 0o600); err != nil {
		t.Fatal(err)
	}
	requireContent(t, "merged from the encrypted file", want, build("encrypted", encrypted, RestoreOptions{Identities: []age.Identity{id}, TmpDir: root}))

	// The file's records, loaded into a database, backed up raw.
	loaded := filepath.Join(root, "loaded")
	if _, err := BuildWipeFrom(t.Context(), loaded, FileOpener(f.file), RestoreOptions{Database: "config"}); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(root, "config-raw.db")
	db := openDiskDB(t, loaded)
	dumpFile(t, db, "config", raw, DumpOptions{Format: FormatBadger})
	closeDB(t, db)
	requireContent(t, "merged from the raw Badger backup", want, build("raw", raw, RestoreOptions{TmpDir: root}))
}
