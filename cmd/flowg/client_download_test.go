package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/kv"
)

func TestRemoveCreatedDirs_RemovesOnlyEmptyDirectoriesThisRunCreated(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "c")
	created, err := kv.MakeDirs(dir)
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
