package integration

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOfflineRestore_RefusesBadFiles damages one file of a good backup in
// every way an operator meets and runs the seed's restore (merge, wipe, and a
// merge of that database alone): exit code 1, a message saying what is wrong
// with which file and that nothing was written, and nothing under ./data
// changed, not even by a safety snapshot of a restore that never happens.
func TestOfflineRestore_RefusesBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		damage  func(t *testing.T, bk string) []byte
		message []string
	}{
		{"empty file", "auth.db", func(t *testing.T, bk string) []byte { return nil }, []string{"auth.db", "empty"}},
		{"truncated file", "config.db", func(t *testing.T, bk string) []byte {
			b := readFile(t, filepath.Join(bk, "config.db"))
			return b[:len(b)/2]
		}, []string{"config.db", "truncated"}},
		{"file cut before its trailer", "log.db", func(t *testing.T, bk string) []byte {
			b := readFile(t, filepath.Join(bk, "log.db"))
			return b[:len(b)-57]
		}, []string{"log.db", "truncated"}},
		{"flipped byte", "log.db", func(t *testing.T, bk string) []byte {
			b := readFile(t, filepath.Join(bk, "log.db"))
			b[len(b)/2] ^= 0x01
			return b
		}, []string{"log.db", "checksum"}},
		{"config.db copied over auth.db", "auth.db", func(t *testing.T, bk string) []byte {
			return readFile(t, filepath.Join(bk, "config.db"))
		}, []string{"auth.db", "another database", `"config"`}},
		{"gzip-wrapped file", "log.db", func(t *testing.T, bk string) []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(readFile(t, filepath.Join(bk, "log.db")))
			zw.Close()
			return buf.Bytes()
		}, []string{"log.db", "gzip", "decompress"}},
		{"text file", "config.db", func(t *testing.T, bk string) []byte { return []byte("config.db\n") }, []string{"config.db", "not a backup"}},
	}
	template, data := backedUp(t)
	changed := changeAfterBackup(t, template, data)
	dbOf := map[string]string{"auth.db": "auth", "config.db": "config", "log.db": "logs"}
	for _, mode := range []string{"merge", "wipe", "merge --only"} {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				root := clone(t, template)
				bk := filepath.Join(root, "backup")
				if err := os.WriteFile(filepath.Join(bk, tt.file), tt.damage(t, bk), 0o600); err != nil {
					t.Fatal(err)
				}
				before := fingerprint(t, filepath.Join(root, "data"))
				args := seedRestore
				switch mode {
				case "wipe":
					args = with(seedRestore, "--wipe")
				case "merge --only":
					// One database: no other file is checked first.
					args = with(seedRestore, "--only", dbOf[tt.file])
				}

				r := flowg(t, root, args...)

				if r.code != 1 {
					t.Fatalf("want exit code 1:\n%s", r)
				}
				if r.stdout != "" {
					t.Errorf("stdout should be empty, is %q", r.stdout)
				}
				requireContains(t, "stderr", r.stderr, append([]string{"flowg: restore refused", "nothing was written", "next:"}, tt.message...)...)
				if after := fingerprint(t, filepath.Join(root, "data")); after != before {
					t.Fatalf("the refused restore wrote under ./data:\nbefore\n%s\nafter\n%s", before, after)
				}
				requireDataset(t, "after the refused restore", root, changed)
			})
		}
	}
}

// TestVerify_ExitCodes verifies good and damaged backups, as a directory and
// as single files.
func TestVerify_ExitCodes(t *testing.T) {
	root, _ := backedUp(t)
	other := t.TempDir()
	writeDataset(t, other, dataset{auth: content{"user/other": {Value: "x"}}, config: content{}, logs: content{}})
	mustFlowg(t, other, seedBackup...)

	tests := []struct {
		name     string
		damage   func(t *testing.T, bk string)
		args     []string
		wantCode int
		want     []string
	}{
		{"good directory", nil, []string{"--backup-dir", "./backup"}, 0, []string{"all 3 files verified"}},
		{"good single file", nil, []string{"./backup/log.db"}, 0, []string{"verified"}},
		{"flipped byte", func(t *testing.T, bk string) { flipByte(t, filepath.Join(bk, "config.db")) }, []string{"--backup-dir", "./backup"}, 1, []string{"config.db", "FAILED", "1 of 3 files are bad"}},
		{"flipped byte, single file", func(t *testing.T, bk string) { flipByte(t, filepath.Join(bk, "log.db")) }, []string{"./backup/log.db"}, 1, []string{"FAILED"}},
		{"good file of another backup, unlike the manifest", func(t *testing.T, bk string) {
			copyFile(t, filepath.Join(other, "backup", "auth.db"), filepath.Join(bk, "auth.db"))
		}, []string{"--backup-dir", "./backup"}, 1, []string{"auth.db", "manifest"}},
		{"missing directory", nil, []string{"--backup-dir", "./nowhere"}, 1, []string{"nowhere"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(root, "backup"), filepath.Join(dir, "backup"))
			if tt.damage != nil {
				tt.damage(t, filepath.Join(dir, "backup"))
			}
			before := fingerprint(t, dir)
			r := flowg(t, dir, append([]string{"admin", "verify"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Fatalf("want exit code %d:\n%s", tt.wantCode, r)
			}
			requireContains(t, "output", r.stdout+r.stderr, tt.want...)
			if after := fingerprint(t, dir); after != before {
				t.Fatalf("verify wrote files:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}
}

// TestInspect_JSONShape checks the documented JSON shape of inspect: one
// object per file, with header, summary and checksum status.
func TestInspect_JSONShape(t *testing.T) {
	root, data := backedUp(t)
	m := readManifest(t, filepath.Join(root, "backup"))

	r := mustFlowg(t, root, "admin", "inspect", "--json", "./backup")

	var files []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &files); err != nil {
		t.Fatalf("stdout is not a JSON array of objects: %v\n%s", err, r.stdout)
	}
	if len(files) != 3 {
		t.Fatalf("%d objects, want 3:\n%s", len(files), r.stdout)
	}
	for i, name := range dbNames {
		f := files[i]
		for _, field := range []string{"file", "format", "header", "summary", "checksum"} {
			if _, ok := f[field]; !ok {
				t.Fatalf("object %d has no %q field:\n%s", i, field, r.stdout)
			}
		}
		entry := m.Databases[name]
		if f["file"] != "backup/"+entry.File && f["file"] != "./backup/"+entry.File && filepath.Base(f["file"].(string)) != entry.File {
			t.Errorf("object %d file = %v, want %s", i, f["file"], entry.File)
		}
		if f["format"] != "flowg" || f["checksum"] != "ok" || f["error"] != nil {
			t.Errorf("%s: format %v, checksum %v, error %v; want flowg, ok, none", name, f["format"], f["checksum"], f["error"])
		}
		h, _ := f["header"].(map[string]any)
		if h["database"] != name || h["format_version"] != 1.0 || h["compression"] != "zstd" || h["read_ts"] != float64(entry.ReadTs) {
			t.Errorf("%s header = %v; want database %s, format_version 1, zstd, read_ts %d", name, h, name, entry.ReadTs)
		}
		for _, field := range []string{"created", "tool_version"} {
			if _, ok := h[field]; !ok {
				t.Errorf("%s header has no %q", name, field)
			}
		}
		s, _ := f["summary"].(map[string]any)
		if s["keys"] != float64(len(data.of(name))) || s["sha256"] != entry.SHA256 {
			t.Errorf("%s summary = %v; want %d keys and sha256 %s", name, s, len(data.of(name)), entry.SHA256)
		}
		for _, field := range []string{"logical_bytes", "frames", "file_bytes"} {
			if _, ok := s[field].(float64); !ok {
				t.Errorf("%s summary has no number %q", name, field)
			}
		}
	}

	t.Run("damaged file", func(t *testing.T) {
		flipByte(t, filepath.Join(root, "backup", "config.db"))
		r := flowg(t, root, "admin", "inspect", "--json", "./backup/config.db")
		if r.code != 1 {
			t.Fatalf("want exit code 1:\n%s", r)
		}
		var files []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &files); err != nil || len(files) != 1 {
			t.Fatalf("stdout is not one JSON object in an array (%v):\n%s", err, r.stdout)
		}
		if files[0]["checksum"] != "bad" || files[0]["error"] == nil {
			t.Fatalf("damaged file: checksum %v, error %v; want bad and an error", files[0]["checksum"], files[0]["error"])
		}
	})
}

// TestInspect_AcceptsTheFlagAfterTheFile runs the example of inspect's own
// help, which puts --json after the file.
func TestInspect_AcceptsTheFlagAfterTheFile(t *testing.T) {
	root, _ := backedUp(t)
	r := mustFlowg(t, root, "admin", "inspect", "./backup/log.db", "--json")
	var files []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &files); err != nil || len(files) != 1 {
		t.Fatalf("stdout is not one JSON object in an array (%v):\n%s", err, r.stdout)
	}
}

// TestCLI_Misuse runs commands called wrongly: exit code 2, nothing on
// stdout, and a message on stderr that names the mistake.
func TestCLI_Misuse(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"unknown flag on backup", []string{"admin", "backup", "--bogus"}, []string{"flowg: flag provided but not defined: -bogus"}},
		{"unknown flag on restore", []string{"admin", "restore", "--bogus"}, []string{"flowg: flag provided but not defined: -bogus"}},
		{"flag without its value", []string{"admin", "backup", "--backup-dir"}, []string{"flowg: flag needs an argument: -backup-dir"}},
		{"stray argument to restore", []string{"admin", "restore", "stray"}, []string{`flowg: unexpected argument "stray"`, "`flowg admin restore --help`"}},
		{"stray argument to backup", []string{"admin", "backup", "./backup"}, []string{`flowg: unexpected argument "./backup"`, "`flowg admin backup --help`"}},
		{"unknown database in --only", []string{"admin", "restore", "--only", "bogus"}, []string{`flowg: --only: unknown database "bogus"`}},
		{"unknown database in --only of backup", []string{"admin", "backup", "--only", "logs,bogus"}, []string{`flowg: --only: unknown database "bogus"`}},
		{"--discard-previous without --wipe", []string{"admin", "restore", "--discard-previous"}, []string{"flowg: --discard-previous only applies with --wipe"}},
		{"unknown backup format", []string{"admin", "backup", "--format", "zip"}, []string{`unknown backup format "zip"`}},
		{"verify without a target", []string{"admin", "verify"}, []string{"flowg: name a backup directory"}},
		{"verify with two targets", []string{"admin", "verify", "a", "b"}, []string{"flowg: give one backup directory or file"}},
		{"inspect without a target", []string{"admin", "inspect", "--json"}, []string{"flowg: name a backup directory"}},
		{"unknown command", []string{"bogus"}, []string{`flowg: unknown command "bogus"`}},
		{"unknown admin command", []string{"admin", "bogus"}, []string{`"bogus"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := flowg(t, dir, tt.args...)
			if r.code != 2 {
				t.Fatalf("want exit code 2:\n%s", r)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty, is %q", r.stdout)
			}
			requireContains(t, "stderr", r.stderr, tt.stderr...)
			if !strings.HasPrefix(r.stderr, "flowg: ") {
				t.Errorf("stderr should start with \"flowg: \", is %q", r.stderr)
			}
			if got := entries(t, dir); !slices.Equal(got, nil) {
				t.Errorf("a misused command created %v", got)
			}
		})
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func flipByte(t testing.TB, path string) {
	t.Helper()
	b := readFile(t, path)
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// clone copies the tree at template into a new temporary directory.
func clone(t testing.TB, template string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	copyFile(t, template, root)
	return root
}

// copyFile copies a file, or a directory of files, from src to dst.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	if st, err := os.Stat(src); err == nil && st.IsDir() {
		if err := os.MkdirAll(dst, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, name := range entries(t, src) {
			copyFile(t, filepath.Join(src, name), filepath.Join(dst, name))
		}
		return
	}
	if err := os.WriteFile(dst, readFile(t, src), 0o600); err != nil {
		t.Fatal(err)
	}
}
