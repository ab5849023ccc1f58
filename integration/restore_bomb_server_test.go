package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// servedBombLimit is the most a restore or verification inside the server
// may add to the idle server's resident memory (issue 12, item 2).
const servedBombLimit = 512

// servedBombAssertLimit is the bound the test asserts for the online merge:
// below servedBombLimit by a margin, so a slow machine cannot make it flaky
// while a regression (826 MiB above idle before the fix) still fails it.
// The other doors are held to servedBombLimit itself, measured at 326 to
// 378 MiB above idle (more than 130 MiB of margin); before the fixes the
// online wipe peaked at 472 to 512 (the server's reopen of the restored
// database, see kv.bulkLoadValueLogFileSize) and the catalog verification
// at 544 (see backup.collectBeforeBigRecord).
const servedBombAssertLimit = 400

// TestServer_RestoreBombMemoryAboveIdle restores and verifies, inside the
// server, a 250 KB backup holding 1.2 GiB of records (20 values of 60 MiB of
// zeros) through each served door: the online merge and wipe of an upload,
// the restore and the verification of a catalog set. For each it measures
// the server's peak resident memory above its idle RSS (VmHWM, reset just
// before the request); the online merge must stay under idle + 400 MiB,
// the others under idle + 512 MiB.
func TestServer_RestoreBombMemoryAboveIdle(t *testing.T) {
	requirePrograms(t, "curl")
	root := t.TempDir()
	src := filepath.Join(root, "bomb-src")
	writeBombDB(t, src, 20)
	catalog := filepath.Join(root, "catalog")
	mustFlowg(t, root, "admin", "backups", "create", "--backup-dir", catalog, "--only", "config", "--config-dir", src)
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	id := onlySetID(t, catalog)
	file := filepath.Join(catalog, id, "config.db")

	for _, run := range []struct {
		name string
		args func(s *flowgServer) []string
	}{
		{"online merge", func(s *flowgServer) []string {
			return []string{"--form", "backup=@" + file, s.url + "/api/v1/restore/config"}
		}},
		{"online wipe", func(s *flowgServer) []string {
			return []string{"--form", "backup=@" + file, s.url + "/api/v1/restore/config?wipe=true"}
		}},
		{"set restore", func(s *flowgServer) []string {
			return []string{"-X", "POST", s.url + "/api/v1/backups/" + id + "/restore"}
		}},
		{"set verify", func(s *flowgServer) []string {
			return []string{"-X", "POST", s.url + "/api/v1/backups/" + id + "/verify"}
		}},
	} {
		dirs := newServerDirs(t)
		copyTree(t, catalog, dirs.backups)
		s := startServer(t, dirs)
		jwt := s.rootJWT(t)
		time.Sleep(time.Second) // let the start settle
		pid := s.cmd.Process.Pid
		idle := vmRSS(pid)
		resetPeak(t, pid)
		start := time.Now()
		body, status := curl(t, dirs.client, jwt, run.args(s)...)
		took := time.Since(start)
		if status != "200" && status != "201" {
			t.Fatalf("%s of the bomb: status %s, want 200:\n%s", run.name, status, body)
		}
		above := vmHWM(pid) - idle
		t.Logf("%s of a 1.2 GiB bomb: idle %d MiB, peak %d MiB above idle, %s", run.name, idle, above, took.Round(10*time.Millisecond))
		limit := int64(servedBombLimit)
		if run.name == "online merge" {
			limit = servedBombAssertLimit
		}
		if above > limit {
			t.Errorf("%s of a 1.2 GiB bomb: peak RSS %d MiB above the idle server's %d MiB, want at most %d (the bound is %d)", run.name, above, idle, limit, servedBombLimit)
		}
		s.stop(t)
		if err := os.RemoveAll(dirs.root); err != nil {
			t.Fatal(err)
		}
	}
}

// onlySetID returns the id of the one set in the local catalog at dir.
func onlySetID(t testing.TB, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		if regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$`).MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) != 1 {
		t.Fatalf("catalog %s holds sets %v, want one", dir, ids)
	}
	return ids[0]
}

// copyTree copies the regular files under from into to, keeping modes.
func copyTree(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(dst, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// vmRSS returns the VmRSS of process pid in MiB, 0 once it is gone.
func vmRSS(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb >> 10
		}
	}
	return 0
}

// resetPeak resets the VmHWM of process pid to its current RSS
// (clear_refs, see proc(5)).
func resetPeak(t testing.TB, pid int) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Fatalf("reset the peak RSS of the server: %v", err)
	}
}
