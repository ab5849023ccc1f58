package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMakeDirs_ReturnsOnlyTheLevelsItCreated(t *testing.T) {
	root := t.TempDir()
	existing := filepath.Join(root, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(existing, "a", "b")
	created, err := makeDirs(dir)
	if want := []string{dir, filepath.Join(existing, "a")}; err != nil || !slices.Equal(created, want) {
		t.Fatalf("makeDirs(%s) = %v, %v; want %v, nil", dir, created, err, want)
	}
	for _, d := range created {
		if st, err := os.Stat(d); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a 0700 directory", d, st, err)
		}
	}
	if again, err := makeDirs(dir); err != nil || len(again) != 0 {
		t.Errorf("makeDirs of an existing directory = %v, %v; want nothing created", again, err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if created, err := makeDirs(file); err == nil || len(created) != 0 {
		t.Errorf("makeDirs of a file = %v, %v; want an error and nothing created", created, err)
	}
}

func TestRemoveCreatedDirs_RemovesOnlyEmptyDirectoriesThisRunCreated(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "c")
	created, err := makeDirs(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Something else wrote into a/b meanwhile: c goes, a/b and a stay.
	kept := filepath.Join(root, "a", "b", "someone-elses")
	if err := os.WriteFile(kept, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := opError{op: "backup", err: errors.New("connection refused"), safe: downloadSafe(dir)}
	got := removeCreatedDirs(dir, created, failed)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s, created and left empty, is still there (%v)", dir, err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a file another process wrote is gone: %v", err)
	}
	var op opError
	if !errors.As(got, &op) || op.safe != "nothing on the server was changed; "+dir+", which this run had created, was removed again" {
		t.Errorf("error after removal = %#v; want its safe line to name %s", got, dir)
	}

	// Nothing created: the error is returned as it was, nothing removed.
	existing := t.TempDir()
	if got := removeCreatedDirs(existing, nil, failed); got != error(failed) {
		t.Errorf("with nothing created the error became %#v", got)
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("a directory that existed before is gone: %v", err)
	}
	if strings.Contains(failed.safe, "removed") {
		t.Errorf("the original error was changed: %q", failed.safe)
	}
}
