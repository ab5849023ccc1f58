package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A decompression bomb: a small backup file, written by flowg itself, whose
// records are many MiB of zeros each. zstd shrinks them a thousandfold, so
// the file is small while the restore must handle gigabytes.

// bombValue is the size of each zero value: under the format's 64 MiB
// bound on a frame's decoded size, so each record fills a frame alone.
const bombValue = 60 << 20

// writeBombDB writes n keys of bombValue zero bytes into the database in dir.
func writeBombDB(t testing.TB, dir string, n int) {
	t.Helper()
	db := openDB(t, dir)
	defer closeDB(t, db)
	zeros := make([]byte, bombValue)
	for i := range n {
		err := db.Update(func(txn *badger.Txn) error {
			return txn.Set([]byte(fmt.Sprintf("bomb/%03d", i)), zeros)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// makeBomb writes a config database of n zero values and backs it up with
// `flowg admin backup` into a directory of its own, whose path it returns.
func makeBomb(t testing.TB, root string, n int) string {
	t.Helper()
	src := filepath.Join(root, "bomb-src")
	writeBombDB(t, src, n)
	out := filepath.Join(root, "bomb")
	mustFlowg(t, root, "admin", "backup", "--only", "config", "--config-dir", src, "--backup-dir", out)
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	return out
}

// flowgPeak runs the built binary in dir, as flowg does, and returns also its
// peak resident memory in MiB: the largest VmHWM of /proc/PID/status read
// while it runs. (ru_maxrss will not do: Linux charges a child the
// resident memory of the test process it was forked from.)
func flowgPeak(t testing.TB, dir string, args ...string) (result, int64) {
	t.Helper()
	cmd := exec.Command(flowgBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", shellQuote(flowgBin, args), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	var err error
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		// Until it execs, the child shares the test process's memory.
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid)); exe == flowgBin {
			peak = max(peak, vmHWM(cmd.Process.Pid))
		}
		select {
		case err = <-done:
			break wait
		case <-tick.C:
		case <-time.After(5 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("%s did not end within 5 minutes", shellQuote(flowgBin, args))
		}
	}
	r := result{cmd: shellQuote(flowgBin, args), dir: dir, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("cannot run %s: %v", r.cmd, err)
	}
	t.Logf("%s\npeak resident memory: %d MiB", r, peak)
	return r, peak
}

// vmHWM returns the VmHWM of process pid in MiB, 0 once it is gone.
func vmHWM(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb >> 10
		}
	}
	return 0
}

// TestServer_RestoreBombRefusedBeforeWriting uploads, with curl, a 300 KB
// backup holding 180 MiB of records (zeros, which zstd shrinks a
// thousandfold) to a server whose --max-upload lets the file in and whose
// --max-restore-size does not let its records in: 413, naming both sizes,
// and the config database holds what it held.
func TestServer_RestoreBombRefusedBeforeWriting(t *testing.T) {
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	bomb := makeBomb(t, dirs.root, 3)
	s := startServer(t, dirs)
	s.putDoc(t, s.rootJWT(t), "/api/v1/pipelines/keep", `{"nodes":["kept"]}`)
	s.stop(t)
	want := readDB(t, dirs.config)

	s = startServer(t, dirs, "--max-upload", "1MiB", "--max-restore-size", "100MiB")
	body, status := curl(t, dirs.client, s.rootJWT(t), "--form", "backup=@"+filepath.Join(bomb, "config.db"), s.url+"/api/v1/restore/config")
	if status != "413" {
		t.Fatalf("restore of a 180 MiB bomb with --max-restore-size 100MiB: status %s, want 413:\n%s", status, body)
	}
	requireContains(t, "the 413", body, "180 MiB", "100 MiB", "nothing was changed", "--max-restore-size")
	s.stop(t)
	requireDB(t, "config after the refused restore", dirs.config, want)
	if entries, _ := os.ReadDir(dirs.backups); len(entries) != 0 {
		t.Errorf("the refused restore wrote a safety snapshot: %v", entries)
	}
}

// TestAdminRestore_BombPeakMemoryBounded restores offline, with the real
// binary, a backup of 1.2 GiB of records (20 values of 60 MiB of zeros, a
// 250 KB file) by merge into a database that holds a key, by wipe, and
// verifies it; each process's peak resident memory stays under 512 MiB
// (it grew with the records before: 1.4 to 3.4 GiB).
func TestAdminRestore_BombPeakMemoryBounded(t *testing.T) {
	root := t.TempDir()
	bomb := makeBomb(t, root, 20)
	target := filepath.Join(root, "config")
	writeDB(t, target, content{"pipelines/x": {Value: "kept"}})
	const limit = 512
	for _, run := range []struct {
		name string
		args []string
	}{
		{"merge", []string{"admin", "restore", "--backup-dir", bomb, "--only", "config", "--config-dir", target, "--catalog-dir", filepath.Join(root, "catalog")}},
		{"wipe", []string{"admin", "restore", "--backup-dir", bomb, "--only", "config", "--config-dir", target, "--wipe", "--discard-previous", "--skip-backup-check"}},
		{"verify", []string{"admin", "verify", filepath.Join(bomb, "config.db")}},
	} {
		r, peak := flowgPeak(t, root, run.args...)
		if r.code != 0 {
			t.Fatalf("%s: exit code %d, want 0:\n%s", run.name, r.code, r)
		}
		t.Logf("%s of a 1.2 GiB bomb: peak RSS %d MiB", run.name, peak)
		if peak >= limit {
			t.Errorf("%s of a 1.2 GiB bomb: peak RSS %d MiB, want under %d MiB", run.name, peak, limit)
		}
	}
	got := readDB(t, target)
	if len(got) != 20 {
		t.Errorf("after the wipe the database holds %d keys, want the bomb's 20", len(got))
	}
}
