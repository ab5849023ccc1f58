package chain

import (
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/backup"
)

// set is a complete set of the named databases in flowg format built on
// parent ("" for a full set).
func set(id, parent string, dbs ...string) backup.SetInfo {
	s := backup.SetInfo{Label: backup.LabelCreated}
	s.ID, s.Parent, s.Status = id, parent, backup.StatusComplete
	s.Databases = map[string]backup.DBEntry{}
	for _, db := range dbs {
		s.Databases[db] = backup.DBEntry{Format: backup.FormatFlowg}
	}
	return s
}

func TestLength_CountsTheFullSetAndEveryLink(t *testing.T) {
	sets := []backup.SetInfo{set("c", "b", "logs"), set("b", "a", "logs"), set("a", "", "logs"), set("x", "gone", "logs")}
	incomplete := set("i", "a", "logs")
	incomplete.Status = backup.StatusFailed
	sets = append(sets, incomplete, set("j", "i", "logs"))
	tests := []struct {
		id     string
		want   int
		wantOK bool
	}{
		{"a", 1, true},
		{"c", 3, true},
		{"x", 1, false},
		{"j", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got, ok := Length(sets, tt.id); got != tt.want || ok != tt.wantOK {
				t.Errorf("Length(%s) = %d, %v; want %d, %v", tt.id, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	loop := []backup.SetInfo{set("p", "q", "logs"), set("q", "p", "logs")}
	if _, ok := Length(loop, "p"); ok {
		t.Errorf("Length of a loop reports a whole chain")
	}
}

func TestWhyFull_NamesTheReason(t *testing.T) {
	badger := set("raw", "", "logs")
	badger.Databases["logs"] = backup.DBEntry{Format: backup.FormatBadger}
	failed := set("bad", "", "logs")
	failed.Label, failed.Status = backup.LabelFailed, backup.StatusFailed
	tests := []struct {
		name     string
		sets     []backup.SetInfo
		maxChain int
		want     string // "" or a part of the reason
	}{
		{"an incremental set needs no reason", []backup.SetInfo{set("new", "a", "logs"), set("a", "", "logs")}, 2, ""},
		{"a set not listed", []backup.SetInfo{set("a", "", "logs")}, 2, ""},
		{"nothing before it", []backup.SetInfo{set("new", "", "logs")}, 2, "there is no complete set to build on"},
		{"only a failed run before it", []backup.SetInfo{set("new", "", "logs"), failed}, 2, "there is no complete set to build on"},
		{"the chain is full", []backup.SetInfo{set("new", "", "logs"), set("b", "a", "logs"), set("a", "", "logs")}, 2,
			"the chain of set b already holds 2 sets, the most a chain may hold (2): a new chain starts"},
		{"the cap is not reached", []backup.SetInfo{set("new", "", "logs"), set("b", "a", "logs"), set("a", "", "logs")}, 3,
			"a database was rebuilt since set b was taken"},
		{"no cap", []backup.SetInfo{set("new", "", "logs"), set("b", "a", "logs"), set("a", "", "logs")}, 0,
			"a database was rebuilt since set b was taken"},
		{"a database missing from the base", []backup.SetInfo{set("new", "", "auth", "config", "logs"), set("a", "", "config")}, 2,
			"set a holds no flowg backup of auth, logs to build on"},
		{"the base in badger format", []backup.SetInfo{set("new", "", "logs"), badger}, 2, "set raw holds no flowg backup of logs"},
		{"a newer set is not the base", []backup.SetInfo{set("newer", "", "logs"), set("new", "", "logs"), set("a", "", "logs")}, 1,
			"the chain of set a already holds 1 set, the most a chain may hold (1)"},
		{"a broken chain", []backup.SetInfo{set("new", "", "logs"), set("b", "gone", "logs")}, 5, "the chain of set b is broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WhyFull(tt.sets, "new", tt.maxChain)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("WhyFull = %q, want %q", got, tt.want)
			}
		})
	}
}
