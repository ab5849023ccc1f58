package restore

import (
	"context"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// Targets are the databases a restore writes: a stopped server's locked
// directories (Offline) or the databases a running server holds (in
// httpapi). The use case (Restore) decides what is written in which order;
// Targets only hold, open and swap.
type Targets interface {
	// Traits says how the targets are written (see Traits).
	Traits() Traits
	// Dir is the directory of database n.
	Dir(n kv.Name) string
	// Hold takes every database of names for the restore, or none:
	// offline their directory locks, on a server its per-database restore
	// mark (kv.ErrBusy when one runs). The restore calls release when it ends.
	Hold(names []kv.Name) (release func(), err error)
	// View runs fn with database n for reading; db is nil when there is
	// no database yet.
	View(ctx context.Context, n kv.Name, fn func(db *badger.DB) error) error
	// Write runs fn with the databases of names open for writing (on a
	// server, shared with its requests), and the context writes run under.
	Write(ctx context.Context, names []kv.Name, fn func(ctx context.Context, dbs map[kv.Name]*badger.DB) error) error
	// Wipe holds database n exclusively (a server answers 503 for it
	// meanwhile) and runs build, which writes the new database into
	// staged, a directory that does not exist yet; current is the database
	// as it is (nil offline, where the restore reads its directory). Wipe
	// then swaps staged in, crash-safely, and returns where the previous
	// database was set aside. A build error changes nothing.
	Wipe(ctx context.Context, n kv.Name, build func(ctx context.Context, current *badger.DB, staged string) error) (aside string, err error)
	// Undo says how to undo a restore of these targets.
	Undo(u Undo) string
	// SetLocation is where a set of the catalog is, as the user reaches it.
	SetLocation(id string) string
}

// Traits are how a Targets is written.
type Traits struct {
	// WipeSnapshots: a wipe takes a safety snapshot too, under the
	// exclusive hold (a server: its previous directory is then deleted).
	// Offline a wipe keeps the previous directory instead.
	WipeSnapshots bool
	// Exclusive: nothing else uses the databases while they are restored
	// (offline). A merge then loads in bulk, and a merge into a database
	// that holds nothing is a bulk load swapped in as a wipe's.
	Exclusive bool
}

// Undo is what a restore kept to undo it with.
type Undo struct {
	Snapshots []Snapshot // the pre_restore sets taken, one per database
	Asides    []Aside    // the previous directories a wipe kept
}

// Snapshot is the pre_restore set holding a database as it was.
type Snapshot struct {
	Database kv.Name
	Set      string
}

// Aside is a wiped database's directory and where its previous one was
// kept.
type Aside struct {
	Database kv.Name
	Dir      string
	Previous string
}
