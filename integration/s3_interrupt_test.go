package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestS3Backup_ObjectStoreKilledMidUpload kills MinIO while `flowg admin
// backup` streams a big logs database into it: flowg must give up in
// bounded time and say so; once MinIO is back on the same data, the older
// set is whole and still restores, the interrupted set is not taken for a
// complete one, and after the next backup no multipart upload of the
// interrupted run is left behind.
func TestS3Backup_ObjectStoreKilledMidUpload(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	root, bucket := t.TempDir(), m.bucket(t)
	data := sampleData()
	writeDataset(t, root, data)
	older := m.backupToS3(t, root, bucket, "--verify")
	olderObjects := m.objects(t, bucket, "")
	// 64 MiB of incompressible values: four full 16 MiB parts to upload.
	bulkDB(t, dataDir(root, "logs"), "big", 1024, 64<<10, 7)

	backup := with(with([]string{"admin", "backup"}, s3DataFlags...), m.target(bucket)...)
	run := startFlowgInBackground(t, root, rootCreds, backup...)

	// Wait for the new set's first object, then for the multipart upload of
	// its log.db, and kill MinIO in the middle of it.
	var id, logKey string
	deadline := time.Now().Add(60 * time.Second)
	for logKey == "" || len(m.incompleteUploads(t, bucket, logKey)) == 0 {
		select {
		case <-run.done:
			t.Fatalf("the backup ended before MinIO could be killed in the middle of log.db (make the logs database bigger):\n%s", run.result())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no multipart upload of log.db appeared within 60s:\n%s", run.result())
		}
		if id == "" {
			for key := range m.objects(t, bucket, s3Prefix+"/") {
				if _, old := olderObjects[key]; !old {
					id = strings.Split(key, "/")[1]
					logKey = s3Prefix + "/" + id + "/log.db"
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	killed := time.Now()
	m.kill(t)
	t.Logf("killed minio during the upload of %s", logKey)

	select {
	case <-run.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("flowg admin backup did not give up within 30s of the object store going away; its goroutines:\n%s", run.dump())
	}
	r := run.result()
	t.Logf("flowg gave up %s after MinIO was killed:\n%s", time.Since(killed).Round(time.Millisecond), r)
	if r.code != 1 {
		t.Fatalf("want exit code 1 from a backup whose object store died:\n%s", r)
	}
	requireContains(t, "stderr", r.stderr, "flowg: backup failed", "back up logs", "cannot reach the object store",
		"earlier backups in s3://"+bucket+"/"+s3Prefix+" are unchanged")

	m.start(t)
	for k, o := range olderObjects {
		if got, ok := m.objects(t, bucket, s3Prefix+"/"+older+"/")[k]; !ok || got != o {
			t.Fatalf("object %s of the older set is %+v after the interrupted backup, was %+v", k, got, o)
		}
	}
	sets := labelsByID(m.listSets(t, bucket))
	if sets[older] != "restore-verified" {
		t.Fatalf("the older set %s is listed %q after the interrupted backup, want restore-verified (all: %v)", older, sets[older], sets)
	}
	if l, ok := sets[id]; ok && l != "failed" && l != "incomplete" {
		t.Fatalf("the interrupted set %s is listed %q, want failed or incomplete", id, l)
	}
	fresh := t.TempDir()
	r = mustS3Flowg(t, fresh, with(with([]string{"admin", "restore", "--wipe"}, s3DataFlags...), m.target(bucket)...)...)
	requireContains(t, "stdout", r.stdout, "/"+older+"/log.db")
	requireDataset(t, "restored after the interrupted backup", fresh, data)

	orphans := m.incompleteUploads(t, bucket, logKey)
	if len(orphans) == 0 {
		t.Fatalf("the killed upload of %s left no multipart upload: the test did not interrupt it", logKey)
	}
	t.Logf("multipart uploads the interrupted run left: %v", orphans)

	next := m.backupToS3(t, root, bucket, "--verify")
	if l := labelsByID(m.listSets(t, bucket))[next]; l != "restore-verified" {
		t.Fatalf("the backup after MinIO came back is listed %q, want restore-verified", l)
	}
	var left []string
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for up := range m.client.ListIncompleteUploads(ctx, bucket, s3Prefix+"/", true) {
		if up.Err != nil {
			t.Fatalf("list incomplete uploads under %s/: %v", s3Prefix, up.Err)
		}
		left = append(left, up.Key)
	}
	// MinIO lists the uploads of one exact key only, so ask for each file too.
	for _, f := range s3DataFiles {
		left = append(left, m.incompleteUploads(t, bucket, s3Prefix+"/"+id+"/"+f)...)
	}
	if len(left) > 0 {
		t.Fatalf("after MinIO came back and a backup ran, multipart uploads of the interrupted run are still open: %v\n"+
			"(MinIO lists incomplete uploads only for an exact key, so a prefix listing finds none to abort)", left)
	}
}

// bgFlowg is a command running in the background.
type bgFlowg struct {
	cmd    *exec.Cmd
	args   []string
	dir    string
	stdout bytes.Buffer
	stderr syncBuffer
	done   chan struct{}
	err    error
}

// startFlowgInBackground starts flowg in dir with creds, as s3Flowg runs
// it, without waiting for it; it is killed if still running when t ends.
func startFlowgInBackground(t testing.TB, dir string, creds s3Creds, args ...string) *bgFlowg {
	t.Helper()
	full := append(s3EnvArgs(creds), append([]string{flowgBin}, args...)...)
	a := &bgFlowg{cmd: exec.Command("env", full...), args: full, dir: dir, done: make(chan struct{})}
	a.cmd.Dir = dir
	a.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	a.cmd.Stdout, a.cmd.Stderr = &a.stdout, &a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", shellQuote("env", full), err)
	}
	go func() {
		a.err = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			_ = a.cmd.Process.Kill()
			<-a.done
		}
	})
	return a
}

// dump makes a running flowg print its goroutines (SIGQUIT), waits for it
// to exit and returns what it did.
func (a *bgFlowg) dump() result {
	_ = a.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
	}
	return a.result()
}

// result describes the run; only once done does it hold the exit code and
// all of stdout.
func (a *bgFlowg) result() result {
	r := result{cmd: shellQuote("env", a.args), dir: a.dir, stderr: a.stderr.String(), code: -1}
	select {
	case <-a.done:
		r.stdout = a.stdout.String()
		r.code = 0
		var exit *exec.ExitError
		if errors.As(a.err, &exit) {
			r.code = exit.ExitCode()
		}
	default:
		r.stdout = "(still running)\n"
	}
	return r
}
