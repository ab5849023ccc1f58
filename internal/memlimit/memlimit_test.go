package memlimit

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/flowg-backup/flowg/backup"
)

// TestForStreaming_TheUsersEnvironmentWins sets the recommended limit and
// turns GOGC off, unless GOMEMLIMIT (then nothing) or GOGC (then only the
// limit) is set.
func TestForStreaming_TheUsersEnvironmentWins(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64); debug.SetGCPercent(100) })
	for _, tt := range []struct {
		name      string
		env       map[string]string
		changed   bool
		wantLimit int64
		wantGC    int
	}{
		{"no setting", nil, true, backup.StreamingMemoryLimit, -1},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, false, math.MaxInt64, 100},
		{"GOGC set", map[string]string{"GOGC": "50"}, true, backup.StreamingMemoryLimit, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			debug.SetGCPercent(100)
			if got := ForStreaming(func(k string) string { return tt.env[k] }); got != tt.changed {
				t.Errorf("ForStreaming = %v, want %v", got, tt.changed)
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
