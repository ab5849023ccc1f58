package kv

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// crashed stands for the death of the process inside a swap.
type crashed struct{}

// swapCutBetweenRenames runs a fallback swap of target and stops it, as a
// crash would, between its two renames; before it stops, check runs there.
func swapCutBetweenRenames(t *testing.T, target, staged, aside string, check func()) {
	t.Helper()
	forceRenameSwap = true
	afterSetAside = func(string) { check(); panic(crashed{}) }
	t.Cleanup(func() { forceRenameSwap, afterSetAside = false, func(string) {} })
	defer func() {
		afterSetAside = func(string) {}
		if r := recover(); r != (crashed{}) {
			t.Fatalf("the swap ran past its first rename (recovered %v)", r)
		}
	}()
	SwapDir(target, staged, aside)
}

// TestRenameSwap_CutBetweenRenamesIsUndoneByTheNextOpen: the fallback swap
// leaves, for an instant, no database at target. A crash there must leave
// enough for the next open to put the previous database back, and the swap
// still running must be refused to others meanwhile.
func TestRenameSwap_CutBetweenRenamesIsUndoneByTheNextOpen(t *testing.T) {
	for _, next := range []struct {
		name string
		run  func(dir string) error
	}{
		{"Open", func(dir string) error {
			db, err := Open(dir, OpenOptions{})
			if err == nil {
				err = db.Close()
			}
			return err
		}},
		{"read-only Open", func(dir string) error {
			db, err := Open(dir, OpenOptions{ReadOnly: true})
			if err == nil {
				err = db.Close()
			}
			return err
		}},
		{"LockDir", func(dir string) error {
			unlock, err := LockDir(dir)
			if err == nil {
				unlock()
			}
			return err
		}},
	} {
		t.Run(next.name, func(t *testing.T) {
			root := t.TempDir()
			target := filepath.Join(root, "logs")
			staged := filepath.Join(root, "logs.restore-staging-1")
			aside := filepath.Join(root, "logs.before-restore-1")
			db, err := Open(target, OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			markDir(t, target, "old")
			markDir(t, staged, "new")

			swapCutBetweenRenames(t, target, staged, aside, func() {
				if err := next.run(target); !errors.Is(err, ErrLocked) {
					t.Errorf("%s while the swap runs: err = %v, want ErrLocked", next.name, err)
				}
			})
			if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("after the cut, target exists (%v): the test did not stop the swap between its renames", err)
			}

			if err := next.run(target); err != nil {
				t.Fatalf("%s after the crash: %v", next.name, err)
			}
			if m := markOf(t, target); m != "old" {
				t.Fatalf("after the recovery target holds %q, want the previous database", m)
			}
			if m := markOf(t, staged); m != "new" {
				t.Fatalf("after the recovery the restored database at its staging name holds %q", m)
			}
			if _, err := os.Lstat(swapMarker(target)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the swap marker is left after the recovery (%v)", err)
			}
		})
	}
}

// TestRenameSwap_NextSwapAfterACutSucceeds: a restore retried after the crash
// first undoes the cut swap, then swaps as usual.
func TestRenameSwap_NextSwapAfterACutSucceeds(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "logs")
	staged := filepath.Join(root, "logs.restore-staging-1")
	markDir(t, target, "old")
	markDir(t, staged, "new")
	swapCutBetweenRenames(t, target, staged, filepath.Join(root, "logs.before-restore-1"), func() {})

	forceRenameSwap = true
	staged2 := filepath.Join(root, "logs.restore-staging-2")
	aside2 := filepath.Join(root, "logs.before-restore-2")
	markDir(t, staged2, "newer")
	got, err := SwapDir(target, staged2, aside2)
	if err != nil || got != aside2 {
		t.Fatalf("SwapDir after the cut = %q, %v; want %q", got, err, aside2)
	}
	if markOf(t, target) != "newer" || markOf(t, aside2) != "old" {
		t.Fatalf("target holds %q and %s holds %q", markOf(t, target), aside2, markOf(t, aside2))
	}
}
