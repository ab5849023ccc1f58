package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
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

// drillStore keeps drill records beside the sets of a catalog.
type drillStore interface {
	putDrill(ctx context.Context, name string, body []byte) error
	// drillNames lists the records' names.
	drillNames(ctx context.Context) ([]string, error)
	openDrill(ctx context.Context, name string) (io.ReadCloser, error)
}

var (
	_ drillStore = localStore{}
	_ drillStore = (*s3Store)(nil)
)

// drillName names a record by its start time, so names sort by age.
func drillName(t time.Time) string {
	return t.UTC().Format("20060102T150405.000000000Z") + ".json"
}

// RecordDrill writes r into the catalog, as drills/<time>.json.
func (c *Catalog) RecordDrill(ctx context.Context, r DrillRecord) error {
	ds, ok := c.store.(drillStore)
	if !ok {
		return fmt.Errorf("record drill: %s cannot keep drill records", c.store)
	}
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("record drill: %w", err)
	}
	if err := ds.putDrill(ctx, drillName(r.Time), append(body, '\n')); err != nil {
		return fmt.Errorf("record drill in %s: %w", c.store, err)
	}
	return nil
}

// LastDrill returns the newest drill record of the catalog; ok is false
// when it holds none.
func (c *Catalog) LastDrill(ctx context.Context) (r DrillRecord, ok bool, err error) {
	ds, isDS := c.store.(drillStore)
	if !isDS {
		return r, false, nil
	}
	names, err := ds.drillNames(ctx)
	if err != nil || len(names) == 0 {
		return r, false, err
	}
	sort.Strings(names)
	name := names[len(names)-1]
	rc, err := ds.openDrill(ctx, name)
	if err != nil {
		return r, false, err
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, drillRecordLimit)).Decode(&r); err != nil {
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

func (s localStore) putDrill(_ context.Context, name string, body []byte) error {
	dir := filepath.Join(s.dir, drillsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-drill-*")
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(dir)
}

func (s localStore) drillNames(context.Context) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, drillsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && isDrillName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (s localStore) openDrill(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(s.dir, drillsDir, filepath.Base(name)))
}

func (s *s3Store) putDrill(ctx context.Context, name string, body []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.key(drillsDir, name), strings.NewReader(string(body)), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return s.explain(err)
	}
	return nil
}

func (s *s3Store) drillNames(ctx context.Context) ([]string, error) {
	var names []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(drillsDir) + "/"}) {
		if obj.Err != nil {
			return nil, s.explain(obj.Err)
		}
		if name := path.Base(obj.Key); isDrillName(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

func (s *s3Store) openDrill(ctx context.Context, name string) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(drillsDir, name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.explain(err)
	}
	return obj, nil
}
