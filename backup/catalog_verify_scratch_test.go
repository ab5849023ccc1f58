package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVerify_ScratchFailureRelabelsNothing: a verification whose scratch
// space fails (TMPDIR not a directory, or missing) says nothing about
// the set: Verify returns ErrScratch naming the place, and neither the set
// nor the unverified base of its chain is branded "verify failed".
func TestVerify_ScratchFailureRelabelsNothing(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	src := []Source{{Name: "config", DB: testDB(t, 50)}}
	base, link := baseAndLink(t, cat, src, -2*time.Second)

	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(t.TempDir(), "gone", "tmp")
	for _, tmp := range []string{notADir, gone} {
		t.Setenv("TMPDIR", tmp)
		for _, id := range []string{link.ID, base.ID} {
			_, err := cat.Verify(ctx, id, time.Now())
			if !errors.Is(err, ErrScratch) || !strings.Contains(err.Error(), tmp) {
				t.Fatalf("TMPDIR=%s: Verify(%s) = %v; want ErrScratch naming %s", tmp, id, err, tmp)
			}
			for _, s := range []string{base.ID, link.ID} {
				if got, _ := cat.Get(ctx, s); got.Label != LabelCreated || got.Verification != nil {
					t.Fatalf("TMPDIR=%s: after Verify(%s), set %s is %q (%s); want %q, no verification recorded",
						tmp, id, s, got.Label, got.Problem, LabelCreated)
				}
			}
		}
	}

	t.Setenv("TMPDIR", t.TempDir())
	if got, err := cat.Verify(ctx, link.ID, time.Now()); err != nil || got.Label != LabelRestoreVerified {
		t.Fatalf("with a usable TMPDIR: %q, %v; want restore-verified", got.Label, err)
	}
}

// TestVerifyPlan_ListsTheUnverifiedLinks: the plan of an incremental set is
// the unverified sets of its chain, oldest first, then the set; once the
// base is verified, only the set.
func TestVerifyPlan_ListsTheUnverifiedLinks(t *testing.T) {
	ctx := context.Background()
	cat := OpenCatalog(t.TempDir())
	src := []Source{{Name: "config", DB: testDB(t, 20)}}
	base, link := baseAndLink(t, cat, src, -2*time.Second)
	ids := func(sets []SetInfo) string {
		var out []string
		for _, s := range sets {
			out = append(out, s.ID)
		}
		return strings.Join(out, ",")
	}
	plan, err := cat.VerifyPlan(ctx, link.ID)
	if want := base.ID + "," + link.ID; err != nil || ids(plan) != want {
		t.Fatalf("VerifyPlan(link) = %s, %v; want %s", ids(plan), err, want)
	}
	if _, err := cat.Verify(ctx, base.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if plan, err = cat.VerifyPlan(ctx, link.ID); err != nil || ids(plan) != link.ID {
		t.Fatalf("VerifyPlan(link) after the base was verified = %s, %v; want %s", ids(plan), err, link.ID)
	}
	if _, err := cat.VerifyPlan(ctx, "20260102T030405Z-a1b2c3"); !errors.Is(err, ErrSetNotFound) {
		t.Fatalf("VerifyPlan of an unknown set: %v, want ErrSetNotFound", err)
	}
}
