package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"filippo.io/age"
)

// A journal lives in its catalog, beside the sets:
//
//	<catalog>/journal/<db>/<chain>/chain.json    the chain: its base set, epoch, start
//	<catalog>/journal/<db>/<chain>/<segment>.seg the changes, in order
//
// A chain starts from a set (its base) and continues it change by change;
// a new chain starts whenever the journal cannot prove it saw every change
// since its last segment (a first start, writes made while the server was
// stopped, a rebuilt database, a subscriber that fell behind).
const (
	journalDirName = "journal"
	chainInfoName  = "chain.json"
)

// journalChain is a chain's chain.json.
type journalChain struct {
	ID       string `json:"id"`
	Database string `json:"database"`
	// Epoch is the database's epoch (see kv.Epoch); versions compare only within one.
	Epoch string `json:"epoch,omitempty"`
	// BaseSet is the set the chain continues, BaseReadTs the read
	// timestamp of its file of Database and BaseCreated when it was read.
	BaseSet     string    `json:"base_set"`
	BaseReadTs  uint64    `json:"base_read_ts"`
	BaseCreated time.Time `json:"base_created"`
	Started     time.Time `json:"started"`
	// Reason says why the chain started.
	Reason string `json:"reason"`
	// FirstSeq, FirstSince and FirstFrom are set once retention deleted the
	// chain's oldest segments (see retention_trim.go): the first segment
	// kept, the version and the instant it follows. BaseSet is then the
	// newer set the chain starts from.
	FirstSeq   uint64    `json:"first_seq,omitempty"`
	FirstSince uint64    `json:"first_since,omitempty"`
	FirstFrom  time.Time `json:"first_from,omitzero"`
}

// chainState is a chain with its segments, as far as their names go.
type chainState struct {
	journalChain
	js journalStore
	// dir names where the chain is (a directory, or an s3:// prefix).
	dir  string
	segs []segmentName
	// sizes are the stored sizes of the files listed, by name.
	sizes map[string]int64
	// problem says why the chain ends before its last file (a gap, a
	// name that does not follow); segs then holds the segments before it.
	problem string
	// leftovers are files of writes cut short: temporary files, and
	// segments a compacted segment holds too.
	leftovers []string
}

// removeLeftovers deletes the chain's leftovers; only the journal's
// writer may, holding the journal's lock.
func (c chainState) removeLeftovers(ctx context.Context) error {
	if len(c.leftovers) == 0 {
		return nil
	}
	return c.js.remove(ctx, c.Database, c.ID, c.leftovers...)
}

// each reads segment seg of the chain to its end, handing each change or
// mark to fn.
func (c chainState) each(ctx context.Context, seg segmentName, ids []age.Identity, fn func(*op, *mark) error) error {
	stored, size, err := c.js.open(ctx, c.Database, c.ID, seg.String())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrMissingFile) {
			return fmt.Errorf("%w: the segment is missing", ErrMissingFile)
		}
		return err
	}
	return eachInStored(ctx, stored, size, c.Database, seg, ids, fn)
}

// end is the last instant the chain covers, upTo its newest version.
func (c chainState) end() time.Time {
	if len(c.segs) == 0 {
		return c.Started
	}
	return c.segs[len(c.segs)-1].to
}

// lastSeq is the sequence number of the chain's newest segment (0: none).
func (c chainState) lastSeq() uint64 {
	if len(c.segs) == 0 {
		return 0
	}
	return c.segs[len(c.segs)-1].last
}

func (c chainState) upTo() uint64 {
	if len(c.segs) == 0 {
		return c.BaseReadTs
	}
	return c.segs[len(c.segs)-1].upTo
}

// start is the first instant the chain restores to: its base set's.
func (c chainState) start() time.Time { return c.BaseCreated }

func journalDir(catalog, db string) string { return filepath.Join(catalog, journalDirName, db) }

// readChains lists database db's chains in the local catalog at catalog,
// oldest first.
func readChains(catalog, db string) ([]chainState, error) {
	return readChainsIn(context.Background(), localJournal{root: catalog}, db)
}

// readChainsIn lists database db's chains in js, oldest first. A chain
// without its chain.json (being deleted) is left out.
func readChainsIn(ctx context.Context, js journalStore, db string) ([]chainState, error) {
	ids, err := js.chainIDs(ctx, db)
	if err != nil {
		return nil, err
	}
	var chains []chainState
	for _, id := range ids {
		c, err := readChain(ctx, js, db, id)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		chains = append(chains, c)
	}
	sort.Slice(chains, func(i, j int) bool { return chains[i].Started.Before(chains[j].Started) })
	return chains, nil
}

// readChain reads a chain's chain.json and the names of its segments, and
// checks they follow one another: sequence numbers, versions and times.
func readChain(ctx context.Context, js journalStore, db, id string) (chainState, error) {
	c := chainState{js: js, dir: js.where(db, id), sizes: map[string]int64{}}
	b, err := js.readInfo(ctx, db, id)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c.journalChain); err != nil {
		return c, fmt.Errorf("%w: journal chain %s: %w", ErrCorrupt, c.dir, err)
	}
	if c.Database != db || c.ID != id {
		return c, fmt.Errorf("%w: journal chain %s names chain %s of %s", ErrCorrupt, c.dir, c.ID, c.Database)
	}
	files, err := js.files(ctx, db, id)
	if err != nil {
		return c, err
	}
	var segs []segmentName
	for _, f := range files {
		c.sizes[f.name] = f.size
		if s, ok := parseSegmentName(f.name); ok {
			segs = append(segs, s)
		} else if isTempName(f.name) {
			c.leftovers = append(c.leftovers, f.name)
		}
	}
	// A compacted segment comes before the segments it holds, which a
	// compaction interrupted before it removed them may have left.
	sort.Slice(segs, func(i, j int) bool {
		if segs[i].seq != segs[j].seq {
			return segs[i].seq < segs[j].seq
		}
		return segs[i].last > segs[j].last
	})
	next, since, from := uint64(1), c.BaseReadTs, c.Started
	if c.FirstSeq > 0 {
		next, since, from = c.FirstSeq, c.FirstSince, c.FirstFrom
	}
	for _, s := range segs {
		if s.last < next {
			c.leftovers = append(c.leftovers, s.String()) // held by a compacted segment already taken
			continue
		}
		if s.seq != next || s.since != since || !s.from.Equal(from) {
			c.problem = fmt.Sprintf("a gap after segment %d (versions up to %d, %s): the next segment is %s", next-1, since, from.Format(time.RFC3339Nano), s)
			break
		}
		c.segs = append(c.segs, s)
		next, since, from = s.last+1, s.upTo, s.to
	}
	return c, nil
}

// writeChain writes a new chain's chain.json into js.
func writeChain(ctx context.Context, js journalStore, info journalChain) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return js.writeInfo(ctx, info, append(b, '\n'))
}

// writeChainInfo creates a chain's directory and its chain.json, durably.
func writeChainInfo(dir string, b []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create journal chain: %w", err)
	}
	tmp := filepath.Join(dir, ".tmp-"+chainInfoName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create journal chain: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, chainInfoName))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err == nil {
		err = syncDir(filepath.Dir(dir))
	}
	if err != nil {
		return fmt.Errorf("create journal chain: %w", err)
	}
	return nil
}
