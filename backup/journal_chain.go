package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
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
	dir  string
	segs []segmentName
	// problem says why the chain ends before its last file (a gap, a
	// name that does not follow); segs then holds the segments before it.
	problem string
	// leftovers are files of writes cut short: temporary files, and
	// segments a compacted segment holds too.
	leftovers []string
}

// removeLeftovers deletes the chain's leftovers; only the journal's
// writer may, holding the journal's lock.
func (c chainState) removeLeftovers() error {
	var errs []error
	for _, name := range c.leftovers {
		if err := os.Remove(filepath.Join(c.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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

// readChains lists database db's chains in catalog, oldest first.
func readChains(catalog, db string) ([]chainState, error) {
	root := journalDir(catalog, db)
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", root, err)
	}
	var chains []chainState
	for _, e := range entries {
		if !e.IsDir() || !ValidSetID(e.Name()) {
			continue
		}
		c, err := readChain(filepath.Join(root, e.Name()))
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
func readChain(dir string) (chainState, error) {
	c := chainState{dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, chainInfoName))
	if err != nil {
		return c, fmt.Errorf("read journal chain: %w", err)
	}
	if err := json.Unmarshal(b, &c.journalChain); err != nil {
		return c, fmt.Errorf("%w: journal chain %s: %w", ErrCorrupt, dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return c, fmt.Errorf("read journal chain: %w", err)
	}
	var segs []segmentName
	for _, e := range entries {
		if s, ok := parseSegmentName(e.Name()); ok && !e.IsDir() {
			segs = append(segs, s)
		} else if strings.HasPrefix(e.Name(), ".tmp-") {
			c.leftovers = append(c.leftovers, e.Name())
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

// writeChainInfo creates a chain's directory and its chain.json, durably.
func writeChainInfo(dir string, info journalChain) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create journal chain: %w", err)
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".tmp-"+chainInfoName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create journal chain: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
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
