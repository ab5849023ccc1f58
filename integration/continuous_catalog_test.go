package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// journalSpan is one database's restorable window as GET /api/v1/backups
// lists it.
type journalSpan struct {
	Database string    `json:"database"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Gaps     []string  `json:"gaps"`
}

// TestContinuous_ListShowsTheWindowsAndVerifyAllReadsTheJournal writes
// through a server with --backup-continuous: GET /api/v1/backups and
// `flowg admin backups list` (and --json) show each database's restorable
// window beside the sets; `flowg admin backups verify --all` verifies the
// journal's segments too, and a truncated one makes it exit 1 naming it.
func TestContinuous_ListShowsTheWindowsAndVerifyAllReadsTheJournal(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	pause()
	var list struct {
		Backups []json.RawMessage `json:"backups"`
		Journal []journalSpan     `json:"journal"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups", root, nil).decode(t, &list)
	if len(list.Journal) != 3 {
		t.Fatalf("GET /api/v1/backups: want the window of each of the 3 databases, got %+v", list.Journal)
	}
	for _, span := range list.Journal {
		if span.From.IsZero() || !span.To.After(span.From) || len(span.Gaps) != 0 {
			t.Fatalf("GET /api/v1/backups: the window of %s is %+v, want from–to and no gap", span.Database, span)
		}
	}
	var journal struct {
		Windows []struct {
			Database string `json:"database"`
			Verified bool   `json:"verified"`
		} `json:"windows"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/backups/journal?verify=true", root, nil).decode(t, &journal)
	if len(journal.Windows) != 3 || !journal.Windows[0].Verified || !journal.Windows[1].Verified || !journal.Windows[2].Verified {
		t.Fatalf("GET /api/v1/backups/journal?verify=true: want the chain of each database verified, got %+v", journal.Windows)
	}
	s.stop(t)

	r := mustFlowg(t, dirs.root, "admin", "backups", "list", "--backup-dir", dirs.backups)
	for _, db := range []string{"auth", "config", "logs"} {
		if !strings.Contains(r.stdout, "journal (restore --at any instant of a window)") || !strings.Contains(r.stdout, "\n"+db+" ") {
			t.Fatalf("admin backups list: want the journal's window of %s:\n%s", db, r)
		}
	}
	r = mustFlowg(t, dirs.root, "admin", "backups", "list", "--backup-dir", dirs.backups, "--json")
	var sets []struct {
		ID      string `json:"id"`
		Journal []struct {
			Database string    `json:"database"`
			BaseSet  string    `json:"base_set"`
			To       time.Time `json:"to"`
		} `json:"journal"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sets); err != nil {
		t.Fatalf("admin backups list --json: %v\n%s", err, r)
	}
	chains := 0
	for _, set := range sets {
		for _, w := range set.Journal {
			if w.BaseSet != set.ID || w.To.IsZero() {
				t.Fatalf("admin backups list --json: set %s lists %+v", set.ID, w)
			}
			chains++
		}
	}
	if chains != 3 {
		t.Fatalf("admin backups list --json: want a chain of each database beside its base set:\n%s", r.stdout)
	}

	r = mustFlowg(t, dirs.root, "admin", "backups", "verify", "--backup-dir", dirs.backups, "--all")
	if strings.Count(r.stdout, "journal ") != 3 || strings.Count(r.stdout, "verified, restorable from") != 3 {
		t.Fatalf("admin backups verify --all: want the journal chain of each database verified:\n%s", r)
	}
	seg := newestSegmentWithChanges(t, filepath.Join(dirs.backups, "journal", "config"))
	st, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(seg, st.Size()-7); err != nil {
		t.Fatal(err)
	}
	r = flowg(t, dirs.root, "admin", "backups", "verify", "--backup-dir", dirs.backups, "--all")
	if r.code != 1 || !strings.Contains(r.stdout, "segment "+filepath.Base(seg)) || !strings.Contains(r.stdout, "truncated") ||
		!strings.Contains(r.stderr, "1 chain of the journal cannot be restored to its end") {
		t.Fatalf("admin backups verify --all after a truncated segment: want exit 1 naming it:\n%s", r)
	}
}

// TestContinuous_PruneKeepsTheSetTheJournalStartsFrom takes two manual sets
// after a server with --backup-continuous stopped: `flowg admin backups
// prune --keep 1` deletes the older manual set and keeps the journal back
// to the set kept, no further: each chain now starts from that set, so its
// segments before it and the continuous set it started from are deleted
// too, saying why (--dry-run says it first). A restore --at latest still
// works; one --at an instant before the set kept is refused, naming what
// the journal can restore.
func TestContinuous_PruneKeepsTheSetTheJournalStartsFrom(t *testing.T) {
	requirePrograms(t, "curl")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs, continuousFlags...)
	root := s.rootJWT(t)
	writeBaseData(t, s, root)
	t1 := pause()
	s.stop(t)
	for range 2 {
		mustFlowg(t, dirs.root, "admin", "backups", "create", "--backup-dir", dirs.backups, "--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs)
		time.Sleep(1100 * time.Millisecond) // set IDs are to the second
	}
	r := mustFlowg(t, dirs.root, "admin", "backups", "prune", "--backup-dir", dirs.backups, "--keep", "1", "--dry-run", "--verbose")
	if !strings.Contains(r.stdout, "would delete segments 1 to ") || !strings.Contains(r.stdout, "from which the chain now starts") ||
		!strings.Contains(r.stdout, "would keep journal chain ") {
		t.Fatalf("prune --dry-run --verbose: want the journal's oldest segments deleted and its chains kept, saying why:\n%s", r)
	}
	r = mustFlowg(t, dirs.root, "admin", "backups", "prune", "--backup-dir", dirs.backups, "--keep", "1")
	if strings.Count(r.stdout, "each of its databases keeps 1 newer sets") != 2 || !strings.Contains(r.stdout, "deleted segments 1 to ") ||
		!strings.Contains(r.stderr, "2 sets deleted") {
		t.Fatalf("prune --keep 1: want the older manual set and the continuous set deleted, and the journal's segments before the set kept:\n%s", r)
	}
	into := newServerDirs(t)
	if r := restoreAt(t, dirs.backups, into, t1.Format(time.RFC3339Nano)); r.code == 0 || !strings.Contains(r.stderr, "outside what the journal of") {
		t.Fatalf("restore --at an instant before the set kept, after prune: want a refusal naming the window:\n%s", r)
	}
	if r := restoreAt(t, dirs.backups, into, "latest"); r.code != 0 {
		t.Fatalf("restore --at latest after prune:\n%s", r)
	}
}
