package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminExport_UsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"since not a time", []string{"admin", "export", "--since", "yesterday"}, "RFC 3339"},
		{"since after until", []string{"admin", "export", "--since", "2026-12-02T00:00:00Z", "--until", "2026-12-01T00:00:00Z"}, "not before"},
		{"bad glob", []string{"admin", "export", "--stream", "[a"}, "--stream"},
		{"file and set", []string{"admin", "export", "--file", "a.db", "--set", "x"}, "two different sources"},
		{"import without file", []string{"admin", "import"}, "exactly one FILE"},
		{"import line bound", []string{"admin", "import", "--max-line-bytes", "0", "f.jsonl"}, "--max-line-bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--auth-dir", filepath.Join(dir, "auth"), "--config-dir", filepath.Join(dir, "config"), "--log-dir", filepath.Join(dir, "logs"))
			r := runFlowg(t, "", args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}

// A backup file found bad midway fails the export, and --output is then
// not written at all: no half file that looks like an export.
func TestAdminExport_OutputCompleteOrAbsent(t *testing.T) {
	args := dbsWithKeys(t, 3)
	bk := filepath.Join(t.TempDir(), "backup")
	if r := runFlowg(t, "", append([]string{"admin", "backup", "--compression", "none", "--backup-dir", bk}, args...)...); r.code != exitOK {
		t.Fatalf("backup: %s", r)
	}
	file := filepath.Join(bk, "config.db")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b[:len(b)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r := runFlowg(t, "", "admin", "export", "--file", file, "--output", out)
	if r.code != exitFailed || !strings.Contains(r.stderr, "was not written") {
		t.Fatalf("export of a truncated file: %s", r)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 0 {
		t.Errorf("the failed export left %v in the output directory", entries)
	}
	r = runFlowg(t, "", "admin", "export", "--file", filepath.Join(bk, "auth.db"), "--output", out)
	if st, err := os.Stat(out); r.code != exitOK || err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export of a good file: %s; %v %v", r, st, err)
	}
}

func TestAdminImport_FromStandardInput(t *testing.T) {
	dir := t.TempDir()
	line := `{"v":1,"kind":"pipeline","name":"p","json":{"nodes":[]}}` + "\n" + `{"v":1,"kind":"end","count":1}` + "\n"
	r := runFlowg(t, line, "admin", "import", "-", "--config-dir", filepath.Join(dir, "config"), "--only", "config")
	if r.code != exitOK || !strings.Contains(r.stdout, "pipeline     1 added") {
		t.Fatalf("import from stdin: %s", r)
	}
	r = runFlowg(t, "", "admin", "export", "--only", "config", "--config-dir", filepath.Join(dir, "config"))
	if r.code != exitOK || r.stdout != line {
		t.Fatalf("export after the import from stdin: %s", r)
	}
}
