package backup

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// TestStoredFile_EncryptedDirMatchesItsManifestHoweverStored: the files of
// a directory written encrypted match its manifest as written, once
// decrypted with the age CLI (age -d) and once re-encrypted armored
// (age -a): StoredFile.Check and Manifest.MatchFile compare the stored
// digest or that of the flowg file inside. Without a key an encrypted file
// is ErrEncrypted, never a checksum difference; a file of another backup
// is one.
func TestStoredFile_EncryptedDirMatchesItsManifestHoweverStored(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ids := []age.Identity{id}
	dir := filepath.Join(t.TempDir(), "backup")
	keys := Keys{Recipients: []age.Recipient{id.Recipient()}, Identities: ids}
	m, err := WriteDir(t.Context(), dir, []Source{{Name: "auth", DB: testDB(t, 7)}}, WriteOptions{ToolVersion: "test", Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, m.Databases["auth"].File)
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := plain(io.NopCloser(mustOpen(t, path)), 0, ids)
	if err != nil {
		t.Fatal(err)
	}
	flowgFile, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}

	check := func(name, want string, withKey bool) {
		t.Helper()
		files, _, err := DirFiles(dir, []string{"auth"})
		if err != nil || len(files) != 1 || files[0].Entry == nil {
			t.Fatalf("%s: DirFiles = %v, %v", name, files, err)
		}
		f := files[0]
		if got, err := f.Encryption(t.Context()); err != nil || got != want {
			t.Errorf("%s: Encryption = %q, %v; want %q", name, got, err, want)
		}
		var opts VerifyOptions
		var mids []age.Identity
		if withKey {
			opts.Identities, mids = ids, ids
		}
		if _, sum, err := f.Check(t.Context(), opts); err != nil || sum.Keys != 7 {
			t.Errorf("%s: Check = %d keys, %v; want 7 keys, no error", name, sum.Keys, err)
		}
		if err := m.MatchFile(t.Context(), "auth", path, mids); err != nil {
			t.Errorf("%s: MatchFile: %v", name, err)
		}
		if want != EncryptionNone {
			if _, _, err := f.Check(t.Context(), VerifyOptions{}); !errors.Is(err, ErrEncrypted) {
				t.Errorf("%s: Check without a key: %v, want ErrEncrypted", name, err)
			}
		}
	}
	check("as written", EncryptionAge, true)
	// MatchFile needs no key for the file as written: its stored digest is the manifest's.
	if err := m.MatchFile(t.Context(), "auth", path, nil); err != nil {
		t.Errorf("as written, no key: MatchFile: %v", err)
	}

	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(flowgFile) // age -d
	check("decrypted", EncryptionNone, false)

	write(ageFile(t, id, flowgFile, true, "")) // age -a
	check("re-encrypted armored", EncryptionAgeArmored, true)
	if err := m.MatchFile(t.Context(), "auth", path, nil); !errors.Is(err, ErrEncrypted) || errors.Is(err, ErrChecksum) {
		t.Errorf("re-encrypted, no key: MatchFile = %v, want ErrEncrypted only", err)
	}

	// Another backup's file in its place differs, key or not.
	otherDir := filepath.Join(t.TempDir(), "other")
	om, err := WriteDir(t.Context(), otherDir, []Source{{Name: "auth", DB: testDB(t, 5)}}, WriteOptions{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(otherDir, om.Databases["auth"].File))
	if err != nil {
		t.Fatal(err)
	}
	write(b)
	files, _, err := DirFiles(dir, []string{"auth"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := files[0].Check(t.Context(), VerifyOptions{Identities: ids}); !errors.Is(err, ErrChecksum) {
		t.Errorf("another backup's file: Check = %v, want ErrChecksum", err)
	}
	if err := m.MatchFile(t.Context(), "auth", path, ids); !errors.Is(err, ErrChecksum) {
		t.Errorf("another backup's file: MatchFile = %v, want ErrChecksum", err)
	}
	write(written)
	check("restored", EncryptionAge, true)
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
