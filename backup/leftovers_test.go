package backup

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowg-backup/flowg/kv"
)

// ClaimStaging removes what interrupted restores left, by name, in the
// staging directory it locks, and the unfinished wipe databases beside the
// databases that no process holds; everything else stays.
func TestClaimStaging_RemovesOnlyStaleLeftovers(t *testing.T) {
	root := t.TempDir()
	staging := filepath.Join(root, "staging")
	db := filepath.Join(root, "config")
	for _, dir := range []string{
		filepath.Join(staging, "flowg-raw-123"),
		filepath.Join(staging, "flowg-chain-9"),
		db,
		db + ".restore-staging-20260101T000000Z",
		db + ".restore-staging-20260101T000001Z",
		db + ".before-restore-20260101T000000Z",
	} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"flowg-upload-auth-1.db", "flowg-converted-2.db", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(staging, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A wipe still building this one holds it.
	held := db + ".restore-staging-20260101T000001Z"
	unlock, err := kv.LockDir(held)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	removed, release, err := ClaimStaging(staging, db)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	want := []string{
		filepath.Join(staging, "flowg-chain-9"), filepath.Join(staging, "flowg-converted-2.db"),
		filepath.Join(staging, "flowg-raw-123"), filepath.Join(staging, "flowg-upload-auth-1.db"),
		db + ".restore-staging-20260101T000000Z",
	}
	slices.Sort(removed)
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, kept := range []string{filepath.Join(staging, "notes.txt"), held, db + ".before-restore-20260101T000000Z", db} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
	if st, err := os.Stat(staging); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("staging directory mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	// Another process (or server) cannot take the same staging directory.
	if _, _, err := ClaimStaging(staging); err == nil {
		t.Errorf("a second ClaimStaging of %s succeeded, want it refused while the first holds it", staging)
	}
}
