package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Run is the import both doors call (`flowg admin import` and POST
// /api/v1/import/{db}): check the whole file, hold the databases it has
// lines of, and merge it, writing a safety copy of each database before
// its first write. The file is read twice: once to check it, once to merge
// it; a stream that can be read only once (standard input) is spooled to a
// 0600 file while it is checked, and the merge reads the spool.

// Holder holds the databases an import writes, once its file passed the
// check: names are the databases the file has lines of. It returns them
// and the function that lets them go.
type Holder func(ctx context.Context, names []kv.Name) (map[kv.Name]*badger.DB, func(), error)

// SafetyCopies says where an import keeps each database as it was before
// its first write, and how a person puts it back.
type SafetyCopies struct {
	// Catalog opens the catalog the pre_restore sets go to, when the
	// first is needed; nil keeps no safety copy.
	Catalog func() (*backup.Catalog, error)
	// By and ToolVersion are recorded in each set's manifest.
	By, ToolVersion string
	// Undo writes how to put names back from set; see OfflineUndo and
	// OnlineUndo.
	Undo func(set string, names []kv.Name) string
}

// Request is one import.
type Request struct {
	// Open opens the file, a second time for the merge. Nil when Input
	// is given.
	Open func() (io.ReadCloser, error)
	// Input is a file that can be read only once (standard input): it is
	// spooled to a 0600 file under SpoolDir ("" for the system's
	// temporary directory) while it is checked, and removed afterwards.
	Input    io.Reader
	SpoolDir string
	Options  ImportOptions
	Hold     Holder
	Safety   SafetyCopies
	// Guard, when set, is asked once the whole file passed its check and
	// before any database is held, with the databases the file has lines
	// of and its size in bytes: its error refuses the import (StageHold),
	// nothing written. A door's size limits go here.
	Guard func(names []kv.Name, fileBytes uint64) error
}

// SafetyCopy is a pre_restore set an import wrote before it changed the
// databases it holds.
type SafetyCopy struct {
	Set       string    `json:"set"`
	Databases []kv.Name `json:"databases"`
	// Location is where the set is: a directory or an s3:// URL.
	Location string `json:"location"`
	// Undo says how to put the databases back as they were.
	Undo string `json:"undo"`
}

// Report is what an import did (or, with DryRun, would do): the answer of
// POST /api/v1/import/{db} and the result of `flowg admin import --json`.
// Its shape only ever gains fields.
type Report struct {
	// Database is the one database an online import names.
	Database string `json:"database,omitempty"`
	Result
	// SafetyCopies are the pre_restore sets written, one per database,
	// each before the database's first write.
	SafetyCopies []SafetyCopy `json:"safety_copies,omitempty"`
	// SafetySnapshot, SafetySnapshotDir and Undo are those of the first
	// safety copy (the only one of an online import); "" when none.
	SafetySnapshot    string `json:"safety_snapshot"`
	SafetySnapshotDir string `json:"safety_snapshot_dir"`
	Undo              string `json:"undo"`
	// Written are the databases the import wrote into, in order.
	Written  []kv.Name `json:"written,omitempty"`
	Warnings []string  `json:"warnings"`
	// Passes is how many times the file was read (2: check, then merge).
	Passes   int    `json:"passes"`
	Duration string `json:"duration"`
}

// Changed returns the databases the import added to or overwrote in (or,
// with DryRun, would), in canonical order.
func (r Report) Changed() []kv.Name {
	changed := map[kv.Name]bool{}
	for k, n := range r.Changes {
		if n.Added > 0 || n.Overwritten > 0 {
			changed[k.Database()] = true
		}
	}
	var out []kv.Name
	for _, n := range kv.Names {
		if changed[n] {
			out = append(out, n)
		}
	}
	return out
}

// Stage is the step of an import an error stopped.
type Stage string

// The steps of an import, in order.
const (
	StageCheck      Stage = "check"       // reading and checking the file: nothing was held or written
	StageHold       Stage = "hold"        // opening the databases: nothing was written
	StageSafetyCopy Stage = "safety copy" // Report.Written were written before it
	StageMerge      Stage = "merge"       // Report.Written may hold part of the file
)

// StageError is an error of Run, with the step it stopped.
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// StageOf returns the step err of Run stopped ("" for none).
func StageOf(err error) Stage {
	var se *StageError
	if errors.As(err, &se) {
		return se.Stage
	}
	return ""
}

// Run checks the whole file, holds the databases it has lines of and
// merges it into them (see Import for the merge), each database written
// into first copied, as it is, into a pre_restore set when it is not
// empty. A file refused by the check, or that changes nothing, writes
// nothing, not even a safety copy. The report is filled as far as the
// import went, also with an error.
func Run(ctx context.Context, req Request) (Report, error) {
	start := time.Now()
	rep := Report{Warnings: []string{}}
	defer func() { rep.Duration = time.Since(start).Round(time.Millisecond).String() }()
	opts := req.Options
	if opts.Now.IsZero() {
		opts.Now = start
	}
	open, cleanup, checked, size, err := checkPass(ctx, req, opts)
	defer cleanup()
	rep.Result = newResult(checked, opts)
	rep.Passes = 1
	if err != nil {
		return rep, &StageError{StageCheck, err}
	}
	if req.Guard != nil {
		if err := req.Guard(checked.Databases, size); err != nil {
			return rep, &StageError{StageHold, err}
		}
	}
	dbs, release, err := req.Hold(ctx, checked.Databases)
	if err != nil {
		return rep, &StageError{StageHold, err}
	}
	defer release()
	in, err := open()
	if err != nil {
		return rep, &StageError{StageMerge, err}
	}
	defer in.Close()
	rep.Passes = 2
	err = merge(ctx, in, dbs, opts, &rep.Result, func(n kv.Name, db *badger.DB) error {
		if err := rep.safetyCopy(ctx, req.Safety, n, db); err != nil {
			return &StageError{StageSafetyCopy, fmt.Errorf("write the safety copy of %s: %w", n, err)}
		}
		rep.Written = append(rep.Written, n)
		return nil
	})
	if err != nil && StageOf(err) == "" {
		err = &StageError{StageMerge, err}
	}
	return rep, err
}

// checkPass reads the file once and checks it whole; it returns how to
// open it for the merge (the file itself, or the spool of req.Input) and
// how many bytes it read.
func checkPass(ctx context.Context, req Request, opts ImportOptions) (func() (io.ReadCloser, error), func(), Checked, uint64, error) {
	nothing := func() {}
	if req.Input == nil {
		in, err := req.Open()
		if err != nil {
			return nil, nothing, Checked{}, 0, err
		}
		defer in.Close()
		counted := &byteCounter{r: in}
		c, err := CheckFile(ctx, counted, opts)
		return req.Open, nothing, c, counted.n, err
	}
	spool, err := os.CreateTemp(req.SpoolDir, "flowg-import-*.jsonl") // 0600
	if err != nil {
		return nil, nothing, Checked{}, 0, fmt.Errorf("%w: %w", ErrSpool, err)
	}
	remove := func() { os.Remove(spool.Name()) }
	counted := &byteCounter{r: req.Input}
	c, err := CheckFile(ctx, io.TeeReader(counted, spoolWriter{spool}), opts)
	if cerr := spool.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: %w", ErrSpool, cerr)
	}
	return func() (io.ReadCloser, error) { return os.Open(spool.Name()) }, remove, c, counted.n, err
}

// byteCounter counts the bytes read through it.
type byteCounter struct {
	r io.Reader
	n uint64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
}

// ErrSpool is wrapped by the error of an import that could not write the
// spool of its input (a full or unwritable temporary directory): the
// input was not at fault, and nothing was written.
var ErrSpool = errors.New("spool the input")

// spoolWriter marks its write errors with ErrSpool.
type spoolWriter struct{ f *os.File }

func (w spoolWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrSpool, err)
	}
	return n, err
}

// safetyCopy writes database n, as it is, into a pre_restore set, unless
// safety keeps none or n is empty (nothing to lose).
func (r *Report) safetyCopy(ctx context.Context, safety SafetyCopies, n kv.Name, db *badger.DB) error {
	if safety.Catalog == nil || kv.IsEmpty(db) {
		return nil
	}
	cat, err := safety.Catalog()
	if err != nil {
		return err
	}
	m, err := cat.Create(ctx, []backup.Source{{Name: string(n), DB: db}}, backup.SetOptions{
		WriteOptions: backup.WriteOptions{ToolVersion: safety.ToolVersion}, Trigger: backup.TriggerPreRestore, By: safety.By,
	})
	if err != nil {
		return err
	}
	sc := SafetyCopy{Set: m.ID, Databases: []kv.Name{n}, Location: setLocation(cat.Dir(), m.ID)}
	if safety.Undo != nil {
		sc.Undo = safety.Undo(m.ID, sc.Databases)
	}
	r.SafetyCopies = append(r.SafetyCopies, sc)
	if len(r.SafetyCopies) == 1 {
		r.SafetySnapshot, r.SafetySnapshotDir, r.Undo = sc.Set, sc.Location, sc.Undo
	} else {
		r.Undo += "; " + sc.Undo
	}
	return nil
}
