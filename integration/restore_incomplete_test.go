package integration

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A merge cut short leaves a database holding part of a backup. These tests
// interrupt real merges and require that it is said, durably: by the
// command interrupted, by the server at its next start and in /metrics,
// until the same restore is run again to its end.

// TestAdminRestore_InterruptedMergeSaysWhatItLeft sends SIGINT to `flowg
// admin restore` while it merges 1.8 GiB of records in place (the database
// directory holds a file of the user's, so the merge is not rebuilt beside
// it): it stops at a batch boundary, exits non-zero and says how many keys
// it wrote, that the database holds part of the backup, and both ways out;
// the marker stays until the same command, run again, ends.
func TestAdminRestore_InterruptedMergeSaysWhatItLeft(t *testing.T) {
	root := t.TempDir()
	bomb := makeBomb(t, root, 30)
	target := filepath.Join(root, "config")
	writeDB(t, target, content{"pipelines/x": {Value: "kept"}})
	if err := os.WriteFile(filepath.Join(target, "README"), []byte("the user's"), 0o600); err != nil {
		t.Fatal(err)
	}
	marker := target + ".restore-incomplete"
	args := []string{"admin", "restore", "--backup-dir", bomb, "--only", "config", "--config-dir", target, "--catalog-dir", filepath.Join(root, "catalog")}
	out, err := interruptRestore(t, root, args)
	if err == nil {
		t.Fatalf("interrupted merge: exit %v, want non-zero", err)
	}
	requireContains(t, "the interrupted merge's message", out,
		"interrupted", "keys were written", "holds part of the backup", marker,
		"run the same command again", "undo it: flowg admin restore --backup-dir")
	if strings.Contains(out, "nothing was written") {
		t.Errorf("the interrupted merge says nothing was written:\n%s", out)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("after the interrupted merge, the marker %s: %v", marker, err)
	}

	// Any command on the database says so, then the same restore clears it.
	r := mustFlowg(t, root, args...)
	requireContains(t, "the restore run again", r.stderr, "warning: the config database at "+target+" holds part of a backup")
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("after the merge ran to its end, the marker %s: %v, want it gone", marker, err)
	}
	if got := readDB(t, target); len(got) != 31 {
		t.Errorf("after the merge ran to its end the database holds %d keys, want 31", len(got))
	}
}

// TestAdminRestore_InterruptedRebuiltMergeChangesNothing sends SIGINT to
// `flowg admin restore` while it rebuilds a database beside itself with
// 1.8 GiB of records: it exits non-zero, says nothing was written, and the
// database, its directory and its siblings are as they were: no marker, no
// staging directory.
func TestAdminRestore_InterruptedRebuiltMergeChangesNothing(t *testing.T) {
	root := t.TempDir()
	bomb := makeBomb(t, root, 30)
	target := filepath.Join(root, "config")
	writeDB(t, target, content{"pipelines/x": {Value: "kept"}})
	before := readDB(t, target)
	args := []string{"admin", "restore", "--backup-dir", bomb, "--only", "config", "--config-dir", target, "--catalog-dir", filepath.Join(root, "catalog")}
	out, err := interruptRestore(t, root, args)
	if err == nil {
		t.Fatalf("interrupted merge: exit %v, want non-zero", err)
	}
	requireContains(t, "the interrupted merge's message", out, "interrupted", "nothing was written")
	if strings.Contains(out, "holds part of the backup") {
		t.Errorf("the interrupted rebuild says the database holds part of the backup:\n%s", out)
	}
	requireDB(t, "the database after the interrupted rebuild", target, before)
	siblings, err := filepath.Glob(target + ".*")
	if err != nil || len(siblings) != 0 {
		t.Errorf("left beside the database: %q (%v)", siblings, err)
	}
}

// interruptRestore runs `flowg args...` in dir and sends it SIGINT once it
// reports writing keys; it returns what it printed and how it exited.
func interruptRestore(t *testing.T, dir string, args []string) (string, error) {
	t.Helper()
	cmd := exec.Command(flowgBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	lines := bufio.NewScanner(io.TeeReader(stderr, &log))
	for lines.Scan() {
		// The progress line comes once the merge wrote some keys.
		if strings.HasPrefix(lines.Text(), "restore config: ") && !strings.HasPrefix(lines.Text(), "restore config: 0 keys") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	_, _ = io.Copy(io.Discard, io.TeeReader(stderr, &log))
	err = cmd.Wait()
	out := log.String()
	t.Logf("$ flowg %s\n%s%s", strings.Join(args, " "), stdout.String(), out)
	return out, err
}

// TestServer_KilledMergeIsReportedAtNextStart kills the server (SIGKILL)
// during an online merge of 1.2 GiB of records: at its next start it logs a
// warning and /metrics says flowg_restore_incomplete{database="config"} 1,
// until the same upload, restored again, ends (0).
func TestServer_KilledMergeIsReportedAtNextStart(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	bomb := filepath.Join(makeBomb(t, dirs.root, 20), "config.db")
	marker := dirs.config + ".restore-incomplete"
	s := startServer(t, dirs)
	jwt := s.rootJWT(t)
	if got := metricLine(t, s, `flowg_restore_incomplete{database="config"}`); got != "0" {
		t.Fatalf("before any restore flowg_restore_incomplete = %q, want 0", got)
	}
	upload := exec.Command("curl", "-sS", "-H", "Authorization: "+jwt, "--form", "backup=@"+bomb, s.url+"/api/v1/restore/config")
	if err := upload.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no marker %s appeared while the merge ran", marker)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // some batches in
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	s.err = nil // killed on purpose
	_ = upload.Wait()

	s = startServer(t, dirs)
	if !strings.Contains(s.log.String(), "a merge restore did not finish") {
		t.Errorf("the server's start does not warn of the killed merge:\n%s", s.log)
	}
	if got := metricLine(t, s, `flowg_restore_incomplete{database="config"}`); got != "1" {
		t.Errorf("after the killed merge flowg_restore_incomplete{database=\"config\"} = %q, want 1", got)
	}
	if got := metricLine(t, s, `flowg_restore_incomplete{database="auth"}`); got != "0" {
		t.Errorf("flowg_restore_incomplete{database=\"auth\"} = %q, want 0", got)
	}
	body, status := curl(t, dirs.client, s.rootJWT(t), "--form", "backup=@"+bomb, s.url+"/api/v1/restore/config")
	if status != "200" {
		t.Fatalf("the same restore again: status %s, want 200:\n%s", status, body)
	}
	if got := metricLine(t, s, `flowg_restore_incomplete{database="config"}`); got != "0" {
		t.Errorf("after the same restore ran to its end flowg_restore_incomplete = %q, want 0", got)
	}
}

// metricLine returns the value of the metric series named exactly so in
// GET /metrics.
func metricLine(t testing.TB, s *flowgServer, series string) string {
	t.Helper()
	r := s.send(t, "GET", "/metrics", "", nil, "")
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	t.Fatalf("GET /metrics has no %s:\n%s", series, r.body)
	return ""
}
