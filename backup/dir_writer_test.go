package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/kv"
)

// dirState maps each entry of dir to its mode and contents.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		state[e.Name()] = info.Mode().String() + " " + string(b)
	}
	return state
}

// receiveDir writes every file of the flat directory from into a new
// directory through DirWriter.Receive, as `flowg backup` does with what a
// server sends, and returns the new directory.
func receiveDir(t *testing.T, from string, dbs []string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "received")
	w, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		body, err := os.ReadFile(filepath.Join(from, FileName(db)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		trailer := http.Header{TrailerSHA256: {hex.EncodeToString(sum[:])}}
		in := Incoming{Database: db, Body: bytes.NewReader(body), Size: int64(len(body)), Trailer: trailer, Source: "http://server"}
		if _, err := w.Receive(t.Context(), in); err != nil {
			t.Fatalf("receive %s: %v", db, err)
		}
	}
	if _, err := w.Commit("test"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDirWriter_DumpAndReceiveWriteTheSameDirectory: a directory written
// by dumping databases (`flowg admin backup`) and one written by receiving
// those files as a server sends them (`flowg backup`) hold the same files,
// byte for byte and with the same modes, and manifests that describe them
// alike; only the received one records a verification, as only it loaded
// its files back.
func TestDirWriter_DumpAndReceiveWriteTheSameDirectory(t *testing.T) {
	dbs := []string{"auth", "config", "logs"}
	var sources []Source
	for i, db := range dbs {
		sources = append(sources, Source{Name: db, DB: testDB(t, 10*(i+1))})
	}
	dumped := filepath.Join(t.TempDir(), "a", "dumped")
	dm, err := WriteDir(t.Context(), dumped, sources, WriteOptions{ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	received := receiveDir(t, dumped, dbs)
	rm, err := ReadManifest(received)
	if err != nil {
		t.Fatal(err)
	}

	want, got := dirState(t, dumped), dirState(t, received)
	delete(want, ManifestName)
	delete(got, ManifestName)
	if !maps.Equal(want, got) {
		t.Errorf("files differ: dumped %v, received %v", slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)))
	}
	for _, dir := range []string{dumped, received} {
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a 0700 directory", dir, st, err)
		}
		if st, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s's manifest: %v, %v; want a 0600 file", dir, st, err)
		}
	}
	for _, db := range dbs {
		d, r := dm.Databases[db], rm.Databases[db]
		if d.File != r.File || d.Format != r.Format || d.Bytes != r.Bytes || d.SHA256 != r.SHA256 || d.Keys != r.Keys ||
			d.LogicalBytes != r.LogicalBytes || d.ContentSum != r.ContentSum || d.ReadTs != r.ReadTs || d.Compression != r.Compression {
			t.Errorf("%s: the manifests describe the file differently:\ndumped   %+v\nreceived %+v", db, d, r)
		}
	}
	if dm.Status != StatusComplete || rm.Status != StatusComplete {
		t.Errorf("statuses %q and %q, want both complete", dm.Status, rm.Status)
	}
	if dm.Verification != nil || rm.Verification == nil || !rm.Verification.OK {
		t.Errorf("verification: dumped %+v, received %+v; want none and ok", dm.Verification, rm.Verification)
	}
}

// TestDirWriter_AFailedReceiveLeavesTheEarlierDirectory: a file whose
// SHA-256 differs from the trailer, after another file of the same run was
// received whole, is refused; Abort leaves the earlier backup in the
// directory exactly as it was, without temporary files.
func TestDirWriter_AFailedReceiveLeavesTheEarlierDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := WriteDir(t.Context(), dir, []Source{{Name: "auth", DB: testDB(t, 3)}, {Name: "logs", DB: testDB(t, 5)}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	before := dirState(t, dir)
	newer := filepath.Join(t.TempDir(), "newer")
	if _, err := WriteDir(t.Context(), newer, []Source{{Name: "auth", DB: testDB(t, 7)}, {Name: "logs", DB: testDB(t, 9)}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}

	w, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := os.ReadFile(filepath.Join(newer, "auth.db"))
	if _, err := w.Receive(t.Context(), Incoming{Database: "auth", Body: bytes.NewReader(auth), Size: -1}); err != nil {
		t.Fatal(err)
	}
	logs, _ := os.ReadFile(filepath.Join(newer, "log.db"))
	bad := http.Header{TrailerSHA256: {strings.Repeat("ab", 32)}}
	_, err = w.Receive(t.Context(), Incoming{Database: "logs", Body: bytes.NewReader(logs), Size: -1, Trailer: bad})
	var de *DirError
	if !errors.As(err, &de) || de.Step != StepCheck || de.Database != "logs" || !errors.Is(err, ErrChecksum) ||
		!strings.Contains(err.Error(), "differs from the abababababab the server sent") {
		t.Fatalf("want a check error on logs wrapping ErrChecksum, got %#v", err)
	}
	if removed := w.Abort(); removed != "" {
		t.Errorf("Abort removed %s, which existed before", removed)
	}
	if after := dirState(t, dir); !maps.Equal(before, after) {
		t.Errorf("the earlier backup changed: %v, want %v", slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before)))
	}
}

// TestDirWriter_AbortRemovesOnlyEmptyDirectoriesItCreated: a failed run
// removes the directories OpenDir created, deepest first, and stops at one
// that holds anything; a directory that existed is never removed.
func TestDirWriter_AbortRemovesOnlyEmptyDirectoriesItCreated(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "c")
	w, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Something else wrote into a/b meanwhile: c goes, a/b and a stay.
	kept := filepath.Join(root, "a", "b", "someone-elses")
	if err := os.WriteFile(kept, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Dump(t.Context(), Source{Name: "auth", DB: testDB(t, 2)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if removed := w.Abort(); removed != dir {
		t.Errorf("Abort removed %q, want %s", removed, dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s, created and left empty, is still there (%v)", dir, err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a file another process wrote is gone: %v", err)
	}

	existing := t.TempDir()
	w, err = OpenDir(existing)
	if err != nil {
		t.Fatal(err)
	}
	if removed := w.Abort(); removed != "" {
		t.Errorf("Abort removed %s, which existed before", removed)
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("a directory that existed before is gone: %v", err)
	}
}

// TestDirWriter_CommitKeepsTheEntriesOfOtherDatabases: a run that writes
// only some databases keeps the manifest entries (and files) of the others,
// and records a verification only if every listed file was loaded back.
func TestDirWriter_CommitKeepsTheEntriesOfOtherDatabases(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteDir(t.Context(), dir, []Source{{Name: "auth", DB: testDB(t, 3)}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := WriteDir(t.Context(), other, []Source{{Name: string(kv.Logs), DB: testDB(t, 4)}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	logs, _ := os.ReadFile(filepath.Join(other, "log.db"))
	if _, err := w.Receive(t.Context(), Incoming{Database: "logs", Body: bytes.NewReader(logs), Size: -1}); err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit("test")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Databases) != 2 || m.Databases["auth"].Keys != 3 || m.Databases["logs"].Keys != 4 {
		t.Errorf("manifest databases %+v, want auth (3 keys) kept and logs (4 keys) added", m.Databases)
	}
	if m.Verification != nil {
		t.Errorf("verification %+v recorded, though auth.db was not loaded back in this run", m.Verification)
	}
}

// TestWriteDir_AFailedRunRemovesTheDirectoryItCreated: `flowg admin
// backup` into a new directory that fails (here: cancelled) leaves no
// directory behind, and its error names the directory it removed.
func TestWriteDir_AFailedRunRemovesTheDirectoryItCreated(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "new", "backup")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := WriteDir(ctx, dir, []Source{{Name: "auth", DB: testDB(t, 3)}}, WriteOptions{})
	var de *DirError
	if !errors.As(err, &de) || !errors.Is(err, context.Canceled) || de.Removed != filepath.Join(root, "new") {
		t.Fatalf("want a cancelled DirError that removed %s, got %#v", filepath.Join(root, "new"), err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("%s holds %v after the failed run, want nothing", root, entries)
	}
}
