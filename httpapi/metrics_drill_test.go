package httpapi_test

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowg-backup/flowg/backup"
)

func TestMetrics_LastDrillComesFromTheCatalogAtEachScrape(t *testing.T) {
	e := newEnv(t, nil)
	// No drill yet: every series is there, at 0.
	m := e.metrics()
	for _, name := range []string{"flowg_drill_last_timestamp_seconds", "flowg_drill_last_success",
		"flowg_drill_last_rto_seconds", "flowg_drill_last_rpo_seconds"} {
		wantPlainMetric(t, m, name, 0)
	}

	// A drill recorded by another process (flowg admin drill) shows at the next scrape.
	cat := backup.OpenCatalog(e.backupDir)
	passed := backup.DrillRecord{Time: time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC), Result: backup.DrillOK,
		RTOSeconds: 1.25, RPOSeconds: 3600}
	if err := cat.RecordDrill(t.Context(), passed); err != nil {
		t.Fatal(err)
	}
	m = e.metrics()
	wantPlainMetric(t, m, "flowg_drill_last_timestamp_seconds", float64(passed.Time.Unix()))
	wantPlainMetric(t, m, "flowg_drill_last_success", 1)
	wantPlainMetric(t, m, "flowg_drill_last_rto_seconds", 1.25)
	wantPlainMetric(t, m, "flowg_drill_last_rpo_seconds", 3600)

	// A newer failed drill turns success to 0.
	failed := backup.DrillRecord{Time: passed.Time.Add(24 * time.Hour), Result: backup.DrillFailed, Error: "checksum", RPOSeconds: 60}
	if err := cat.RecordDrill(t.Context(), failed); err != nil {
		t.Fatal(err)
	}
	m = e.metrics()
	wantPlainMetric(t, m, "flowg_drill_last_timestamp_seconds", float64(failed.Time.Unix()))
	wantPlainMetric(t, m, "flowg_drill_last_success", 0)
	wantPlainMetric(t, m, "flowg_drill_last_rto_seconds", 0)

	// An unreadable newest record keeps the values last read.
	bad := filepath.Join(e.backupDir, "drills", failed.Time.Add(time.Hour).Format("20060102T150405.000000000Z")+".json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	m = e.metrics()
	wantPlainMetric(t, m, "flowg_drill_last_timestamp_seconds", float64(failed.Time.Unix()))
	wantPlainMetric(t, m, "flowg_drill_last_rpo_seconds", 60)
}

// wantPlainMetric checks the value of the label-less series name.
func wantPlainMetric(t *testing.T, text, name string, want float64) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			got, err := strconv.ParseFloat(v, 64)
			if err != nil || math.Abs(got-want) > 1e-3 {
				t.Errorf("%s %s, want %f", name, v, want)
			}
			return
		}
	}
	t.Errorf("no %s in the metrics:\n%s", name, grepLines(text, "flowg_drill"))
}
