//go:build unix

package backup

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestVerify_OutOfFileDescriptorsRelabelsNothing: EMFILE while verifying is
// this process's limit, not the set's fault: nothing is recorded.
func TestVerify_OutOfFileDescriptorsRelabelsNothing(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	m, err := cat.Create(ctx, []Source{{Name: "config", DB: testDB(t, 50)}}, SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	// No spare descriptor: the first open of the verification fails, be it
	// the set's manifest (listed incomplete for now) or the scratch space.
	low := saved
	low.Cur = uint64(len(fds))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	_, err = cat.Verify(ctx, m.ID, time.Now())
	if rerr := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatalf("Verify with %d file descriptors succeeded; want it refused", low.Cur)
	}
	if got, _ := cat.Get(ctx, m.ID); got.Label != LabelCreated || got.Verification != nil {
		t.Fatalf("after an EMFILE verification the set is %q (%s); want %q, nothing recorded", got.Label, got.Problem, LabelCreated)
	}
}
