package kv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestMakeDirs_ReturnsOnlyTheLevelsItCreated(t *testing.T) {
	root := t.TempDir()
	existing := filepath.Join(root, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(existing, "a", "b")
	created, err := MakeDirs(dir)
	if want := []string{dir, filepath.Join(existing, "a")}; err != nil || !slices.Equal(created, want) {
		t.Fatalf("MakeDirs(%s) = %v, %v; want %v, nil", dir, created, err, want)
	}
	for _, d := range created {
		if st, err := os.Stat(d); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a 0700 directory", d, st, err)
		}
	}
	if again, err := MakeDirs(dir); err != nil || len(again) != 0 {
		t.Errorf("MakeDirs of an existing directory = %v, %v; want nothing created", again, err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if created, err := MakeDirs(file); err == nil || len(created) != 0 {
		t.Errorf("MakeDirs of a file = %v, %v; want an error and nothing created", created, err)
	}
}
