package export

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
	"github.com/flowg-backup/flowg/kv/docs"
)

// countingOpen opens the file of content and counts the opens: how many
// times an import reads its file.
func countingOpen(t *testing.T, content string) (func() (io.ReadCloser, error), *int) {
	open := writeFile(t, content)
	n := 0
	return func() (io.ReadCloser, error) { n++; return open() }, &n
}

// holdAll holds dbs as they are, and counts the holds.
func holdAll(dbs map[kv.Name]*badger.DB, held *[]kv.Name) Holder {
	return HoldEach(func(n kv.Name) (*badger.DB, func(), error) {
		*held = append(*held, n)
		return dbs[n], func() {}, nil
	})
}

// catalogIn keeps safety copies in a local catalog at dir.
func catalogIn(dir string) SafetyCopies {
	return SafetyCopies{
		Catalog: func() (*backup.Catalog, error) { return backup.OpenCatalog(dir), nil },
		By:      "test", Undo: OfflineUndo(dir, kv.Dirs{Auth: "a", Config: "c", Logs: "l"}),
	}
}

// The file is read twice (check, merge), a dry run too; a database is
// copied into a pre_restore set of its own before its first write, only
// when it changes and is not empty; a file that changes nothing writes
// nothing, not even a copy.
func TestRun_TwoPassesAndASafetyCopyBeforeEachFirstWrite(t *testing.T) {
	ctx := context.Background()
	src := openDBs(t, t.TempDir())
	populate(t, src)
	file := exportAll(t, src, Options{IncludeSecrets: true})
	dst := openDBs(t, t.TempDir())
	catDir := filepath.Join(t.TempDir(), "catalog")
	var held []kv.Name

	// Into empty databases: nothing to lose, no copy.
	open, opens := countingOpen(t, file)
	rep, err := Run(ctx, Request{Open: open, Hold: holdAll(dst, &held), Safety: catalogIn(catDir)})
	if err != nil {
		t.Fatal(err)
	}
	if *opens != 2 || rep.Passes != 2 {
		t.Errorf("the file was opened %d times (passes %d), want 2", *opens, rep.Passes)
	}
	if len(rep.SafetyCopies) != 0 || strings.Join(names(rep.Written), ",") != "auth,config,logs" {
		t.Errorf("into empty databases: copies %+v, written %v; want no copy, all three written", rep.SafetyCopies, rep.Written)
	}

	// Again: nothing changes, nothing is written, no copy.
	open, opens = countingOpen(t, file)
	rep, err = Run(ctx, Request{Open: open, Hold: holdAll(dst, &held), Safety: catalogIn(catDir)})
	if err != nil || len(rep.Written) != 0 || len(rep.SafetyCopies) != 0 || len(rep.Changed()) != 0 || *opens != 2 {
		t.Fatalf("second run: %v, written %v, copies %+v, opens %d", err, rep.Written, rep.SafetyCopies, *opens)
	}

	// One pipeline changed: config alone is copied, then written.
	edited := strings.Replace(file, `"name":"default","json":{"nodes":[{"id":"a"`, `"name":"default","json":{"nodes":[{"id":"b"`, 1)
	if edited == file {
		t.Fatalf("no pipeline default to edit in:\n%s", file)
	}
	open, opens = countingOpen(t, edited)
	rep, err = Run(ctx, Request{Open: open, Options: ImportOptions{DryRun: true}, Hold: holdAll(dst, &held), Safety: catalogIn(catDir)})
	if err != nil || *opens != 2 || len(rep.SafetyCopies) != 0 || strings.Join(names(rep.Changed()), ",") != "config" {
		t.Fatalf("dry run: %v, opens %d, copies %+v, changed %v", err, *opens, rep.SafetyCopies, rep.Changed())
	}
	open, _ = countingOpen(t, edited)
	rep, err = Run(ctx, Request{Open: open, Hold: holdAll(dst, &held), Safety: catalogIn(catDir)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.SafetyCopies) != 1 || strings.Join(names(rep.SafetyCopies[0].Databases), ",") != "config" || rep.SafetySnapshot != rep.SafetyCopies[0].Set {
		t.Fatalf("safety copies %+v, want one of config", rep.SafetyCopies)
	}
	if want := "flowg admin restore --backup-dir " + catDir + " --set " + rep.SafetySnapshot + " --only config --wipe --config-dir c"; rep.Undo != want {
		t.Errorf("undo %q, want %q", rep.Undo, want)
	}
	set, err := backup.OpenCatalog(catDir).Get(ctx, rep.SafetySnapshot)
	if err != nil || set.Trigger != backup.TriggerPreRestore || len(set.Databases) != 1 {
		t.Fatalf("safety set %+v, %v: want a pre_restore set of config alone", set, err)
	}
	// The copy holds config as it was before the write.
	restored := openDBs(t, t.TempDir())
	if _, err := Import(ctx, writeFile(t, file), restored, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if set.Databases[string(kv.Config)].Keys != keyCount(t, restored[kv.Config]) {
		t.Errorf("the safety copy holds %d keys, config had %d", set.Databases[string(kv.Config)].Keys, keyCount(t, restored[kv.Config]))
	}
}

// A read-once input (standard input) is read once, spooled to a file that
// is gone afterwards.
func TestRun_InputReadOnceAndSpooled(t *testing.T) {
	src := openDBs(t, t.TempDir())
	populate(t, src)
	file := exportAll(t, src, Options{})
	dst := openDBs(t, t.TempDir())
	spool := t.TempDir()
	var held []kv.Name
	in := &onceReader{r: strings.NewReader(file)}
	rep, err := Run(context.Background(), Request{Input: in, SpoolDir: spool, Hold: holdAll(dst, &held)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changes[KindLog].Added != 4 || rep.Passes != 2 {
		t.Errorf("from a read-once input: log %+v, passes %d", *rep.Changes[KindLog], rep.Passes)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("the spool was left behind: %v", left)
	}
}

// onceReader fails if read again after its end.
type onceReader struct {
	r     io.Reader
	ended bool
}

func (o *onceReader) Read(p []byte) (int, error) {
	if o.ended {
		return 0, errors.New("read again after the end")
	}
	n, err := o.r.Read(p)
	if err == io.EOF {
		o.ended = true
	}
	return n, err
}

// A refused file holds no database; a safety copy that cannot be written
// stops the import before its first write.
func TestRun_StopsBeforeTheFirstWrite(t *testing.T) {
	ctx := context.Background()
	dst := openDBs(t, t.TempDir())
	if err := docs.New(dst[kv.Config]).Put(docs.KindPipeline, "p", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	var held []kv.Name
	bad := `{"v":1,"kind":"pipeline","name":"q","json":{}}` + "\n" + `{"v":1,"kind":"pipeline"` + "\n"
	_, err := Run(ctx, Request{Open: writeFile(t, bad), Hold: holdAll(dst, &held)})
	if StageOf(err) != StageCheck || !errors.Is(err, ErrBadLine) || len(held) != 0 {
		t.Fatalf("bad file: stage %q, err %v, held %v; want the check to refuse it before any hold", StageOf(err), err, held)
	}

	good := `{"v":1,"kind":"pipeline","name":"q","json":{}}` + "\n" + `{"v":1,"kind":"end","count":1}` + "\n"
	broken := SafetyCopies{Catalog: func() (*backup.Catalog, error) { return nil, errors.New("catalog unreachable") }}
	rep, err := Run(ctx, Request{Open: writeFile(t, good), Hold: holdAll(dst, &held), Safety: broken})
	if StageOf(err) != StageSafetyCopy || !strings.Contains(err.Error(), "catalog unreachable") || len(rep.Written) != 0 {
		t.Fatalf("broken catalog: stage %q, err %v, written %v", StageOf(err), err, rep.Written)
	}
	if _, err := docs.New(dst[kv.Config]).Get(docs.KindPipeline, "q"); err == nil {
		t.Errorf("pipeline q written although its safety copy failed")
	}
}

func names(ns []kv.Name) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out
}

func keyCount(t *testing.T, db *badger.DB) uint64 {
	t.Helper()
	var n uint64
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if !isReserved(it.Item().Key()) {
				n++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A safety copy that fails before the first write into a later database
// stops the import there: the report names the databases already written
// (each with its own copy), the later one is unchanged.
func TestRun_SafetyCopyFailingForALaterDatabase(t *testing.T) {
	ctx := context.Background()
	dst := openDBs(t, t.TempDir())
	populate(t, dst)
	file := `{"v":1,"kind":"pipeline","name":"new","json":{}}` + "\n" +
		`{"v":1,"kind":"stream","name":"new","ttl":"1h"}` + "\n" + `{"v":1,"kind":"end","count":2}` + "\n"
	catDir := filepath.Join(t.TempDir(), "catalog")
	calls := 0
	safety := catalogIn(catDir)
	safety.Catalog = func() (*backup.Catalog, error) {
		if calls++; calls > 1 {
			return nil, errors.New("catalog full")
		}
		return backup.OpenCatalog(catDir), nil
	}
	var held []kv.Name
	rep, err := Run(ctx, Request{Open: writeFile(t, file), Hold: holdAll(dst, &held), Safety: safety})
	if StageOf(err) != StageSafetyCopy || !strings.Contains(err.Error(), "logs") || strings.Join(names(rep.Written), ",") != "config" {
		t.Fatalf("stage %q, err %v, written %v; want the copy of logs to fail after config was written", StageOf(err), err, rep.Written)
	}
	if len(rep.SafetyCopies) != 1 || rep.SafetyCopies[0].Databases[0] != kv.Config {
		t.Errorf("safety copies %+v, want the one of config", rep.SafetyCopies)
	}
	if _, err := docs.New(dst[kv.Config]).Get(docs.KindPipeline, "new"); err != nil {
		t.Errorf("config was not written: %v", err)
	}
	if strings.Contains(exportAll(t, dst, Options{}), `"kind":"stream","name":"new"`) {
		t.Errorf("logs was written although its safety copy failed")
	}
}

// A Guard sees the databases and the size of the whole file, for both
// kinds of input, and its refusal stops the import before any hold.
func TestRun_GuardRefusesBeforeTheHold(t *testing.T) {
	ctx := context.Background()
	src := openDBs(t, t.TempDir())
	populate(t, src)
	file := exportAll(t, src, Options{})
	dst := openDBs(t, t.TempDir())
	var held []kv.Name
	var gotNames []kv.Name
	var gotBytes uint64
	refuse := errors.New("too large")
	guard := func(names []kv.Name, n uint64) error { gotNames, gotBytes = names, n; return refuse }

	open, _ := countingOpen(t, file)
	_, err := Run(ctx, Request{Open: open, Hold: holdAll(dst, &held), Guard: guard})
	if !errors.Is(err, refuse) || StageOf(err) != StageHold || len(held) != 0 {
		t.Fatalf("refused by its guard: err %v (stage %q), held %v; want the guard's error at the hold stage, nothing held", err, StageOf(err), held)
	}
	if gotBytes != uint64(len(file)) || strings.Join(names(gotNames), ",") != "auth,config,logs" {
		t.Fatalf("the guard saw %d bytes of %v, want %d bytes of auth,config,logs", gotBytes, gotNames, len(file))
	}
	gotBytes = 0
	_, err = Run(ctx, Request{Input: strings.NewReader(file), SpoolDir: t.TempDir(), Hold: holdAll(dst, &held), Guard: guard})
	if !errors.Is(err, refuse) || len(held) != 0 || gotBytes != uint64(len(file)) {
		t.Fatalf("spooled input: err %v, held %v, guard saw %d bytes; want refused, nothing held, %d bytes", err, held, gotBytes, len(file))
	}
}
