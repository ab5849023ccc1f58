package main

import (
	"math"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
)

// TestMemoryPolicy_OnlyStreamingRunsAndNeverOverTheUser: the program, not
// the library, sets the streaming jobs' memory limit and turns GOGC off:
// for a backup, a verification and a wipe restore, not for a merge, a dry
// run or a listing, and never over the user's GOMEMLIMIT or GOGC.
func TestMemoryPolicy_OnlyStreamingRunsAndNeverOverTheUser(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64); debug.SetGCPercent(100) })
	root := t.TempDir()
	dirs := []string{"--auth-dir", filepath.Join(root, "auth"), "--config-dir", filepath.Join(root, "config"),
		"--log-dir", filepath.Join(root, "logs"), "--backup-dir", filepath.Join(root, "backup")}
	const streaming, untouched = backup.StreamingMemoryLimit, math.MaxInt64
	for _, tt := range []struct {
		args      string
		env       map[string]string
		wantLimit int64
		wantGC    int
	}{
		{"admin backup", nil, streaming, -1},
		{"admin verify", nil, streaming, -1},
		{"admin restore --wipe", nil, streaming, -1},
		{"admin restore", nil, untouched, 100},
		{"admin restore --wipe --dry-run", nil, untouched, 100},
		{"admin backups list", nil, untouched, 100},
		{"admin backup", map[string]string{"GOMEMLIMIT": "1GiB"}, untouched, 100},
		{"admin backup", map[string]string{"GOGC": "50"}, streaming, 100},
	} {
		t.Run(tt.args+envString(tt.env), func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			debug.SetMemoryLimit(math.MaxInt64)
			debug.SetGCPercent(100)
			args := strings.Fields(tt.args)
			switch args[1] {
			case "backup", "restore":
				args = append(args, dirs...)
			default:
				args = append(args, "--backup-dir", filepath.Join(root, "backup"))
			}
			if r := runFlowg(t, "", args...); r.code == exitUsage {
				t.Fatalf("flowg %s: a usage error, the command did not run:\n%s", strings.Join(args, " "), r)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tt.wantLimit)
			}
			if got := debug.SetGCPercent(100); got != tt.wantGC {
				t.Errorf("GOGC = %d, want %d", got, tt.wantGC)
			}
		})
	}
}

func envString(env map[string]string) string {
	s := ""
	for k, v := range env {
		s += " " + k + "=" + v
	}
	return s
}
