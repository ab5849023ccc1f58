package kv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// markDir creates dir holding a file "which" that says what dir is.
func markDir(t *testing.T, dir, which string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "which"), []byte(which), 0o600); err != nil {
		t.Fatal(err)
	}
}

// markOf returns what the "which" file of dir says, or "absent".
func markOf(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "which"))
	if os.IsNotExist(err) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eachSwap runs test once with the atomic exchange and once with the
// fallback of systems that lack it (renameSwap), as subtests of name.
func eachSwap(t *testing.T, name string, test func(t *testing.T)) {
	for _, fallback := range []bool{false, true} {
		sub := name + "/exchange"
		if fallback {
			sub = name + "/rename fallback"
		}
		t.Run(strings.TrimPrefix(sub, "/"), func(t *testing.T) {
			forceRenameSwap = fallback
			t.Cleanup(func() { forceRenameSwap = false })
			test(t)
		})
	}
}

func TestSwapDir_PutsStagedInPlace(t *testing.T) {
	tests := []struct {
		name      string
		prepare   func(t *testing.T, target, aside string)
		wantAside bool
	}{
		{"target holds a database: it is set aside", func(t *testing.T, target, _ string) { markDir(t, target, "old") }, true},
		{"target does not exist", func(t *testing.T, _, _ string) {}, false},
		{"target is an empty directory", func(t *testing.T, target, _ string) {
			if err := os.MkdirAll(target, 0o700); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		eachSwap(t, tt.name, func(t *testing.T) {
			root := t.TempDir()
			target := filepath.Join(root, "data", "logs")
			staged := filepath.Join(root, "data", "logs.restore-staging-1")
			aside := filepath.Join(root, "data", "logs.before-restore-1")
			markDir(t, staged, "new")
			tt.prepare(t, target, aside)

			got, err := SwapDir(target, staged, aside)
			if err != nil {
				t.Fatal(err)
			}
			if m := markOf(t, target); m != "new" {
				t.Fatalf("target holds %q, want new", m)
			}
			if _, err := os.Stat(staged); !os.IsNotExist(err) {
				t.Fatalf("staging directory still exists (stat err %v)", err)
			}
			wantAside := ""
			if tt.wantAside {
				wantAside = aside
			}
			if got != wantAside {
				t.Fatalf("SwapDir returned %q, want %q", got, wantAside)
			}
			if tt.wantAside {
				if m := markOf(t, aside); m != "old" {
					t.Fatalf("set-aside directory holds %q, want old", m)
				}
			}
		})
	}
}

// TestSwapDir_AsideNameTakenLosesNothing swaps while the set-aside name is
// already used: the error must say where the previous database is, and both
// databases must still exist.
func TestSwapDir_AsideNameTakenLosesNothing(t *testing.T) {
	eachSwap(t, "", testAsideNameTaken)
}

func testAsideNameTaken(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "logs")
	staged := filepath.Join(root, "logs.restore-staging-1")
	aside := filepath.Join(root, "logs.before-restore-1")
	markDir(t, target, "old")
	markDir(t, staged, "new")
	markDir(t, aside, "older")

	got, err := SwapDir(target, staged, aside)
	if err == nil {
		t.Fatalf("SwapDir succeeded though %s exists", aside)
	}
	if forceRenameSwap {
		// The fallback sets target aside first, so it stops before
		// anything moved: target and aside as they were, the restored
		// database dropped as in any swap that never started.
		if markOf(t, target) != "old" || markOf(t, aside) != "older" || got != "" {
			t.Fatalf("after the refused swap target holds %q, aside %q, returned %q", markOf(t, target), markOf(t, aside), got)
		}
		return
	}
	found := map[string]bool{markOf(t, target): true, markOf(t, aside): true}
	if got != "" {
		found[markOf(t, got)] = true
	}
	for _, want := range []string{"old", "new", "older"} {
		if !found[want] {
			t.Fatalf("after the failed swap the %s database is lost (target %q, returned %q: %q, aside %q)",
				want, markOf(t, target), got, markOf(t, got), markOf(t, aside))
		}
	}
	if m := markOf(t, target); m != "old" && m != "new" {
		t.Fatalf("target holds %q", m)
	}
}

// TestSwapDir_FailedBeforeTheExchangeLeavesNothingBeside: a swap that
// cannot start (here a target whose name the file system refuses) leaves
// the target as it was and removes the staged database, which would
// otherwise sit unnamed beside it.
func TestSwapDir_FailedBeforeTheExchangeLeavesNothingBeside(t *testing.T) {
	eachSwap(t, "", testFailedBeforeTheExchange)
}

func testFailedBeforeTheExchange(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, strings.Repeat("l", 300))
	staged := filepath.Join(root, "logs.restore-staging-1")
	markDir(t, staged, "new")

	got, err := SwapDir(target, staged, filepath.Join(root, "logs.before-restore-1"))
	if err == nil || got != "" {
		t.Fatalf("SwapDir onto a name too long = %q, %v; want an error and nothing set aside", got, err)
	}
	if left, _ := os.ReadDir(root); len(left) > 0 {
		t.Fatalf("after the failed swap %s holds %v", root, left)
	}
}
