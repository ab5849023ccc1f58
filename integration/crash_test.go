package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// bulkDB writes a database of n records of size incompressible bytes under
// log/app/, the same keys for every seed, plus 100 keys only this seed has.
func bulkDB(t *testing.T, dir, tag string, n, size int, seed int64) {
	t.Helper()
	db := openDB(t, dir)
	defer closeDB(t, db)
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	value := randomBytes(size+n, seed)
	for i := range n {
		if err := wb.Set(fmt.Appendf(nil, "log/app/%08d", i), value[i:i+size]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		if err := wb.Set(fmt.Appendf(nil, "log/%s-only/%03d", tag, i), []byte(tag)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
}

// digest opens the database in dir as the server would (replaying its log
// after a crash) and returns a SHA-256 of every live record in key order.
func digest(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		t.Fatalf("%s holds no database: %v", dir, err)
	}
	db := openDB(t, dir)
	defer closeDB(t, db)
	h := sha256.New()
	var n uint64
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		var lens [8 + 8 + 1 + 8]byte
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			binary.LittleEndian.PutUint64(lens[0:], uint64(len(item.Key())))
			binary.LittleEndian.PutUint64(lens[8:], uint64(len(v)))
			lens[16] = item.UserMeta()
			binary.LittleEndian.PutUint64(lens[17:], item.ExpiresAt())
			h.Write(lens[:])
			h.Write(item.Key())
			h.Write(v)
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return fmt.Sprintf("%d keys, sha256 %s", n, hex.EncodeToString(h.Sum(nil))[:16])
}

// swappedFrom returns a condition true once path names another directory
// than it did when swappedFrom was called.
func swappedFrom(path string) func() bool {
	before, _ := os.Stat(path)
	return func() bool {
		now, err := os.Stat(path)
		return err == nil && (before == nil || !os.SameFile(before, now))
	}
}

// exists reports whether a path matches pattern.
func exists(pattern string) bool {
	m, _ := filepath.Glob(pattern)
	return len(m) > 0
}

// TestCrash_WipeRestoreKilledAtAnyPointLeavesOldOrNew runs
// `flowg admin restore --wipe` on a database of about 50 MB and kills it with
// SIGKILL at many points: after delays spread over a normal run, and the
// moment the file system shows a step of the restore (staging directory
// created, first table written, target swapped, previous database set
// aside), which the test watches for. After each kill the target directory
// must open and hold exactly the old content or exactly the backup, never a
// mix or nothing; and when it holds the backup, the old content must still
// exist next to it. Leftover staging directories are allowed.
func TestCrash_WipeRestoreKilledAtAnyPointLeavesOldOrNew(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test writes about 1 GB in all; skipped with -short")
	}
	crashTrials(t, flowgBin, false)
}

// TestCrash_RenameFallbackKilledAtAnyPointLeavesOldOrNew runs the same
// trials with a binary built with -tags flowg_swapfallback, which swaps as
// systems without RENAME_EXCHANGE do (two renames under a marker file), and
// is also killed the moment the target is gone, between the two renames.
// After each kill a `flowg admin backup` of the target must succeed: the
// next flowg to open the database undoes a swap cut in the middle.
func TestCrash_RenameFallbackKilledAtAnyPointLeavesOldOrNew(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test writes about 1 GB in all; skipped with -short")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "flowg-swapfallback")
	build := exec.Command("go", "build", "-tags", "flowg_swapfallback", "-o", bin, "./cmd/flowg")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags flowg_swapfallback: %v\n%s", err, out)
	}
	crashTrials(t, bin, true)
}

// crashTrials is the crash test with the binary bin; fallback adds the kill
// point between the fallback's renames and the recovery check.
func crashTrials(t *testing.T, bin string, fallback bool) {
	root := t.TempDir()
	pristine := filepath.Join(root, "old-logs")
	bulkDB(t, pristine, "old", 12000, 4096, 1)
	newDir := filepath.Join(root, "new-logs")
	bulkDB(t, newDir, "new", 12000, 4096, 2)
	bk := filepath.Join(root, "backup")
	mustFlowg(t, root, "admin", "backup", "--only", "logs", "--log-dir", newDir, "--backup-dir", bk)
	oldSum, newSum := digest(t, pristine), digest(t, newDir)
	if oldSum == newSum {
		t.Fatal("old and new content do not differ")
	}
	t.Logf("old: %s; new: %s", oldSum, newSum)

	counts := map[string]int{}
	// trial restores into a fresh copy of the old database, kills the
	// process as soon as killNow (nil: never) says so, and checks what the
	// target then holds.
	trial := func(i int, point string, killNow func(start time.Time, target string) bool) time.Duration {
		dir := filepath.Join(root, fmt.Sprintf("trial-%02d", i))
		defer os.RemoveAll(dir)
		target := filepath.Join(dir, "data", "logs")
		copyFile(t, pristine, target)
		cmd := exec.Command(bin, "admin", "restore", "--wipe", "--only", "logs", "--log-dir", target, "--backup-dir", bk)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			if killNow == nil {
				return
			}
			for {
				select {
				case <-done:
					return
				default:
				}
				if killNow(start, target) {
					_ = cmd.Process.Kill() // SIGKILL
					return
				}
				time.Sleep(50 * time.Microsecond)
			}
		}()
		err := cmd.Wait()
		took := time.Since(start)
		close(done)
		<-watched
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		killed := ws.Signaled() && ws.Signal() == syscall.SIGKILL
		if !killed && err != nil {
			t.Fatalf("trial %d: restore failed without being killed: %v\n%s", i, err, out.String())
		}

		if killed && fallback {
			// The next flowg to open the database undoes a cut swap.
			check := exec.Command(bin, "admin", "backup", "--only", "logs", "--log-dir", target, "--backup-dir", dir+".check")
			if out, err := check.CombinedOutput(); err != nil {
				t.Fatalf("trial %d (killed at %s): a backup of the target after the kill failed (next to it: %v): %v\n%s",
					i, point, entries(t, filepath.Dir(target)), err, out)
			}
			os.RemoveAll(dir + ".check")
		}
		outcome := "old"
		switch got := digest(t, target); got {
		case oldSum:
		case newSum:
			outcome = "new"
			if !killed {
				break
			}
			// The old content must survive somewhere next to the target.
			found := false
			for _, e := range entries(t, filepath.Dir(target)) {
				if e != "logs" && strings.HasPrefix(e, "logs.") && digest(t, filepath.Join(filepath.Dir(target), e)) == oldSum {
					found = true
				}
			}
			if !found {
				t.Errorf("trial %d (killed at %s): the target holds the backup but the old database is gone (next to it: %v)",
					i, point, entries(t, filepath.Dir(target)))
			}
		default:
			t.Fatalf("trial %d (killed at %s after %s): the target holds %s, neither the old content (%s) nor the backup (%s)\n%s",
				i, point, took, got, oldSum, newSum, out.String())
		}
		if !killed && outcome != "new" {
			t.Fatalf("trial %d: the restore exited 0 but the target holds the old content\n%s", i, out.String())
		}
		state := "finished"
		if killed {
			state = "killed"
			counts["killed, "+outcome]++
		} else {
			counts["finished"]++
		}
		t.Logf("trial %2d: kill %-34s %-8s after %-8s target holds %s; next to it: %v",
			i, point, state, took.Round(time.Millisecond), outcome, entries(t, filepath.Dir(target)))
		return took
	}

	full := trial(0, "never", nil)
	n := 1
	for _, f := range []float64{0, 0.1, 0.3, 0.5, 0.7, 0.85, 0.95} {
		delay := time.Duration(f * float64(full))
		trial(n, fmt.Sprintf("after %s", delay.Round(time.Millisecond)), func(start time.Time, _ string) bool {
			return time.Since(start) >= delay
		})
		n++
	}
	points := []struct {
		name string
		now  func(target string) func() bool
	}{
		{"when the staging directory appears", func(target string) func() bool {
			return func() bool { return exists(target + ".restore-staging-*") }
		}},
		{"when the first table is staged", func(target string) func() bool {
			return func() bool { return exists(target + ".restore-staging-*/*.sst") }
		}},
		{"when the target is swapped", swappedFrom},
		{"when the target is swapped", swappedFrom},
		{"when the old database is set aside", func(target string) func() bool {
			return func() bool { return exists(target + ".before-restore-*") }
		}},
	}
	if fallback {
		gone := func(target string) func() bool {
			return func() bool { _, err := os.Lstat(target); return errors.Is(err, os.ErrNotExist) }
		}
		points = append(points, []struct {
			name string
			now  func(target string) func() bool
		}{{"when the target is gone", gone}, {"when the target is gone", gone}}...)
	}
	for _, p := range points {
		var cond func() bool
		trial(n, p.name, func(_ time.Time, target string) bool {
			if cond == nil {
				cond = p.now(target)
			}
			return cond()
		})
		n++
	}
	t.Logf("outcomes: %v", counts)
	if counts["killed, old"]+counts["killed, new"] == 0 {
		t.Fatal("no trial killed the restore while it ran")
	}
}
