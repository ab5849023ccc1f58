package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Results of a restore drill.
const (
	DrillOK     = "ok"
	DrillFailed = "failed"
)

// drillsDir is the folder of a catalog holding the drill records: not a
// set id, so listing sets never sees it.
const drillsDir = "drills"

// drillRecordLimit bounds the size of a drill record read back.
const drillRecordLimit = 1 << 20

// DrillRecord is one restore drill as the catalog keeps it: which set was
// restored into a scratch place, how long until a server served it (RTO),
// how old its data was (RPO), and the result. Its JSON shape only ever
// gains fields.
type DrillRecord struct {
	// Time is when the drill started (UTC).
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger"` // TriggerManual or TriggerScheduled
	// Set is the set restored ("" when none could be picked) and SetCreated
	// when it was taken.
	Set        string    `json:"set,omitempty"`
	SetCreated time.Time `json:"set_created,omitzero"`
	Result     string    `json:"result"` // DrillOK or DrillFailed
	Error      string    `json:"error,omitempty"`
	// RTOSeconds is the time from the start of the restore to a server
	// answering for every database (0 when it never did).
	RTOSeconds float64 `json:"rto_seconds"`
	// RPOSeconds is the age of the restored data: Time − SetCreated.
	RPOSeconds float64 `json:"rpo_seconds"`
	// DurationSeconds is the whole drill, the checks and clean-up included.
	DurationSeconds float64 `json:"duration_seconds"`
	// Databases says what the drill found in each database it restored.
	Databases map[string]DrillDatabase `json:"databases,omitempty"`
}

// DrillDatabase is one database of a drill: the keys the manifest says the
// set holds, the keys the restored database held once its server stopped,
// and whether the two and their content sums matched.
type DrillDatabase struct {
	ManifestKeys   uint64  `json:"manifest_keys"`
	Keys           uint64  `json:"keys"`
	Expired        uint64  `json:"expired_skipped,omitempty"`
	ContentChecked bool    `json:"content_checked"`
	RestoreSeconds float64 `json:"restore_seconds"`
	Error          string  `json:"error,omitempty"`
}

// OK reports whether the drill passed.
func (r DrillRecord) OK() bool { return r.Result == DrillOK }

// drillName names a record by its start time, so names sort by age.
func drillName(t time.Time) string {
	return t.UTC().Format("20060102T150405.000000000Z") + ".json"
}

// RecordDrill writes r into the catalog, as drills/<time>.json.
func (c *Catalog) RecordDrill(ctx context.Context, r DrillRecord) error {
	ds, ok := c.store.(recordStore)
	if !ok {
		return fmt.Errorf("record drill: %s cannot keep drill records", c.store)
	}
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("record drill: %w", err)
	}
	if err := ds.putRecord(ctx, drillsDir, drillName(r.Time), append(body, '\n')); err != nil {
		return fmt.Errorf("record drill in %s: %w", c.store, err)
	}
	return nil
}

// LastDrill returns the newest drill record of the catalog; ok is false
// when it holds none.
func (c *Catalog) LastDrill(ctx context.Context) (r DrillRecord, ok bool, err error) {
	ds, isDS := c.store.(recordStore)
	if !isDS {
		return r, false, nil
	}
	names, err := ds.recordNames(ctx, drillsDir, isDrillName)
	if err != nil || len(names) == 0 {
		return r, false, err
	}
	sort.Strings(names)
	name := names[len(names)-1]
	body, err := readRecord(ctx, ds, drillsDir, name, drillRecordLimit)
	if err != nil {
		return r, false, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, false, fmt.Errorf("read drill record %s: %w", name, err)
	}
	return r, true, nil
}

// isDrillName reports whether name is one drillName gives.
func isDrillName(name string) bool {
	stamp, ok := strings.CutSuffix(name, ".json")
	if !ok {
		return false
	}
	_, err := time.Parse("20060102T150405.000000000Z", stamp)
	return err == nil
}
