package export

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/flowg-backup/flowg/kv"
)

// DefaultMaxLineBytes is the longest line an import reads by default: 8
// MiB, room for a 1 MiB document or record even when every byte of it is
// escaped.
const DefaultMaxLineBytes = 8 << 20

// batchItems is how many items an import compares and writes at once.
const batchItems = 1000

// ImportOptions tune CheckFile and Import.
type ImportOptions struct {
	// MaxLineBytes bounds a line; a longer one is refused (ErrLineTooLong)
	// before it is held in memory whole. 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// Databases, when set, are the only databases lines may belong to;
	// a line of another is refused (ErrOtherDatabase).
	Databases []kv.Name
	// DryRun compares every item with what is stored and counts, but
	// writes nothing.
	DryRun bool
	// Now decides which records already expired (skipped); zero means
	// time.Now.
	Now time.Time
	// Lenient skips (and counts) fields the schema does not name instead
	// of refusing their line (ErrUnknownField); every other check stays.
	Lenient bool
}

// MaxNames is how many names of added and of overwritten items Counts
// keeps per kind, for a person to see what an import changes.
const MaxNames = 20

// Counts says what an import did, or would do, with the items of a kind.
type Counts struct {
	Added       uint64 `json:"added"`
	Overwritten uint64 `json:"overwritten"`
	Unchanged   uint64 `json:"unchanged"`
	// Expired counts log records whose expires_at has passed: not written.
	Expired uint64 `json:"expired,omitempty"`
	// AddedNames and OverwrittenNames name the first MaxNames items added
	// and overwritten, in file order (log records have no name).
	AddedNames       []string `json:"added_names,omitempty"`
	OverwrittenNames []string `json:"overwritten_names,omitempty"`
}

func (c *Counts) add(name string) {
	c.Added++
	if name != "" && len(c.AddedNames) < MaxNames {
		c.AddedNames = append(c.AddedNames, name)
	}
}

func (c *Counts) overwrite(name string) {
	c.Overwritten++
	if name != "" && len(c.OverwrittenNames) < MaxNames {
		c.OverwrittenNames = append(c.OverwrittenNames, name)
	}
}

// Checked is what CheckFile found in a good file.
type Checked struct {
	Lines     uint64          `json:"lines"`
	Kinds     map[Kind]uint64 `json:"kinds"`
	Databases []kv.Name       `json:"databases"` // in canonical order
	// IgnoredFields counts the unknown fields a lenient import skipped;
	// IgnoredFieldNames names the first MaxNames distinct ones, as
	// "kind.field".
	IgnoredFields     uint64   `json:"ignored_fields,omitempty"`
	IgnoredFieldNames []string `json:"ignored_field_names,omitempty"`
}

// ignore counts the unknown fields skipped in a line of kind k.
func (c *Checked) ignore(k Kind, fields []string) {
	c.IgnoredFields += uint64(len(fields))
	for _, f := range fields {
		name := string(k) + "." + f
		if len(c.IgnoredFieldNames) < MaxNames && !slices.Contains(c.IgnoredFieldNames, name) {
			c.IgnoredFieldNames = append(c.IgnoredFieldNames, name)
		}
	}
}

// Result is what Import did (or, with DryRun, would do).
type Result struct {
	Checked
	Changes map[Kind]*Counts `json:"changes"`
	DryRun  bool             `json:"dry_run"`
	// NoPassword names (up to MaxNames) the users added without a password
	// hash: they cannot log in until one is set.
	NoPassword []string `json:"no_password,omitempty"`
}

// CheckFile reads r to its end and checks every line; it writes nothing. It
// returns the first bad line's error, naming the line, or what the file
// holds.
func CheckFile(ctx context.Context, r io.Reader, opts ImportOptions) (Checked, error) {
	c := Checked{Kinds: map[Kind]uint64{}}
	err := eachItem(ctx, r, opts, func(it item) error {
		c.Kinds[it.kind]++
		if !slices.Contains(c.Databases, it.db) {
			c.Databases = append(c.Databases, it.db)
		}
		return nil
	}, &c)
	slices.SortFunc(c.Databases, func(a, b kv.Name) int {
		return slices.Index(kv.Names, a) - slices.Index(kv.Names, b)
	})
	return c, err
}

// Import checks the file open gives whole, then opens it again and merges
// its items into dbs, which must hold every database the file has lines of:
// an item overwrites what is stored at its key, and what the file lacks is
// kept. An item equal to what is stored is not written again, so importing
// a file twice changes nothing. If the check fails, nothing is written. A
// write error or ctx ending midway leaves the items before it written.
// Import keeps no safety copy: Run does.
func Import(ctx context.Context, open func() (io.ReadCloser, error), dbs map[kv.Name]*badger.DB, opts ImportOptions) (Result, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	checked, err := readChecked(ctx, open, opts)
	res := newResult(checked, opts)
	if err != nil {
		return res, err
	}
	in, err := open()
	if err != nil {
		return res, err
	}
	defer in.Close()
	return res, merge(ctx, in, dbs, opts, &res, nil)
}

// newResult is the result of an import of a file found to hold checked,
// before its merge.
func newResult(checked Checked, opts ImportOptions) Result {
	res := Result{Checked: checked, Changes: map[Kind]*Counts{}, DryRun: opts.DryRun}
	for _, k := range Kinds {
		if checked.Kinds[k] > 0 {
			res.Changes[k] = &Counts{}
		}
	}
	return res
}

// merge reads the checked file from r again and merges its items into dbs,
// counting in res. beforeWrite, when set, is called once per database
// before the first write into it; an error from it stops the merge.
func merge(ctx context.Context, r io.Reader, dbs map[kv.Name]*badger.DB, opts ImportOptions, res *Result, beforeWrite func(kv.Name, *badger.DB) error) error {
	for _, n := range res.Databases {
		if dbs[n] == nil {
			return fmt.Errorf("the file has lines of the %s database, which is not open", n)
		}
	}
	b := &batch{dbs: dbs, opts: opts, res: res, beforeWrite: beforeWrite, written: map[kv.Name]bool{}}
	var again Checked
	err := eachItem(ctx, r, opts, func(it item) error {
		b.items = append(b.items, it)
		if len(b.items) >= batchItems {
			return b.flush()
		}
		return nil
	}, &again)
	if err == nil {
		err = b.flush()
	}
	return err
}

func readChecked(ctx context.Context, open func() (io.ReadCloser, error), opts ImportOptions) (Checked, error) {
	in, err := open()
	if err != nil {
		return Checked{}, err
	}
	defer in.Close()
	return CheckFile(ctx, in, opts)
}

// eachItem reads r line by line, each at most opts.MaxLineBytes long, and
// calls fn with the item of each; c counts the lines read and the unknown
// fields a lenient read skipped. The last
// line must be the end line, counting the item lines before it: a file
// without it, or with lines after it, is ErrIncomplete or ErrBadLine.
func eachItem(ctx context.Context, r io.Reader, opts ImportOptions, fn func(item) error, c *Checked) error {
	max := opts.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	ended := false
	d := &lineDecoder{lenient: opts.Lenient}
	for n := uint64(1); ; n++ {
		if n%ctxEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := readLine(br, buf[:0], max)
		buf = line
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return endCheck(ended, n-1)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", n, err)
		}
		c.Lines = n
		if ended {
			return fmt.Errorf("line %d: %w: a line after the end line: the file holds more than one export, or was altered", n, ErrBadLine)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return fmt.Errorf("line %d: %w: empty line", n, ErrBadLine)
		}
		it, perr := parseLine(d, line)
		if perr != nil {
			return fmt.Errorf("line %d: %w", n, perr)
		}
		if len(d.ignored) > 0 {
			c.ignore(it.kind, d.ignored)
		}
		if it.kind == KindEnd {
			if it.count != n-1 {
				return fmt.Errorf("line %d: %w: the end line counts %d lines before it, the file has %d: lines were lost or added", n, ErrIncomplete, it.count, n-1)
			}
			ended = true
		} else {
			if len(opts.Databases) > 0 && !slices.Contains(opts.Databases, it.db) {
				return fmt.Errorf("line %d: %w: a %s, of the %s database, and only %s was asked for", n, ErrOtherDatabase, it.kind, it.db, joinNames(opts.Databases))
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return endCheck(ended, n)
		}
	}
}

// endCheck returns ErrIncomplete if the file of lines lines had no end line.
func endCheck(ended bool, lines uint64) error {
	if ended {
		return nil
	}
	return fmt.Errorf("%w: after %d lines it has no end line ({\"v\":1,\"kind\":\"end\",...}): it was cut short (a copy stopped, a stream broken off); export the data again", ErrIncomplete, lines)
}

// joinNames writes names as "auth, config".
func joinNames(names []kv.Name) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}

// readLine appends the next line of br, without its "\n", to buf. A line
// longer than max is ErrLineTooLong, found after reading at most max plus
// one buffer (64 KiB) of it. It returns io.EOF with the last line if the file does not
// end with a newline, and with nothing at the end.
func readLine(br *bufio.Reader, buf []byte, max int) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > max+1 || (len(buf) > max && !bytes.HasSuffix(buf, []byte("\n"))) {
			return buf[:0], fmt.Errorf("%w: more than %d bytes (for a file you trust, raise the limit: --max-line-bytes, or flowg serve --import-max-line-bytes online)", ErrLineTooLong, max)
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte("\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return buf, err
		}
	}
}
