package auth_test

import (
	"slices"
	"testing"

	"github.com/flowg-backup/flowg/auth"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  auth.Scope
		isErr bool
	}{
		{name: "exact", in: "read_acls", want: auth.ScopeReadACLs},
		{name: "send logs", in: "send_logs", want: auth.ScopeSendLogs},
		{name: "case and spaces", in: "  WRITE_Streams ", want: auth.ScopeWriteStreams},
		{name: "unknown", in: "read_everything", isErr: true},
		{name: "empty", in: "", isErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseScope(tt.in)
			if tt.isErr {
				wantErr(t, err, auth.ErrUnknownScope)
				wantErr(t, err, auth.ErrInvalid)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseScope(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestAllScopes_AreElevenDistinctParsableScopes(t *testing.T) {
	if len(auth.AllScopes) != 11 || len(auth.NewScopeSet(auth.AllScopes...)) != 11 {
		t.Fatalf("AllScopes = %v, want 11 distinct scopes", auth.AllScopes)
	}
	for _, s := range auth.AllScopes {
		if got, err := auth.ParseScope(string(s)); err != nil || got != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
}

func TestScopeSet(t *testing.T) {
	a := auth.NewScopeSet(auth.ScopeWriteStreams, auth.ScopeReadStreams, auth.ScopeReadStreams, auth.ScopeSendLogs)
	b := auth.NewScopeSet(auth.ScopeReadStreams, auth.ScopeReadACLs, auth.ScopeSendLogs)
	tests := []struct {
		name string
		got  []auth.Scope
		want []auth.Scope
	}{
		{name: "sorted without duplicates", got: a, want: []auth.Scope{"read_streams", "send_logs", "write_streams"}},
		{name: "intersect", got: a.Intersect(b), want: []auth.Scope{"read_streams", "send_logs"}},
		{name: "intersect with empty", got: a.Intersect(nil), want: nil},
		{name: "union", got: a.Union(b), want: []auth.Scope{"read_acls", "read_streams", "send_logs", "write_streams"}},
		{name: "missing keeps order", got: b.Missing(auth.ScopeWriteACLs, auth.ScopeReadStreams, auth.ScopeReadAlerts), want: []auth.Scope{"write_acls", "read_alerts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if !a.Has(auth.ScopeSendLogs) || a.Has(auth.ScopeReadACLs) {
		t.Errorf("Has on %v is wrong", a)
	}
}

func TestBackupAndRestoreScopes(t *testing.T) {
	tests := []struct {
		db          string
		backup      []auth.Scope
		restoreWant []auth.Scope
	}{
		{db: "auth", backup: []auth.Scope{"read_acls"}, restoreWant: []auth.Scope{"write_acls"}},
		{db: "config",
			backup:      []auth.Scope{"read_pipelines", "read_transformers", "read_alerts"},
			restoreWant: []auth.Scope{"write_pipelines", "write_transformers", "write_alerts"}},
		{db: "logs", backup: []auth.Scope{"read_streams"}, restoreWant: []auth.Scope{"write_streams"}},
		{db: "log", backup: []auth.Scope{"read_streams"}, restoreWant: []auth.Scope{"write_streams"}},
		{db: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			if got := auth.BackupScopes(tt.db); !slices.Equal(got, tt.backup) {
				t.Errorf("BackupScopes(%q) = %v, want %v", tt.db, got, tt.backup)
			}
			if got := auth.RestoreScopes(tt.db); !slices.Equal(got, tt.restoreWant) {
				t.Errorf("RestoreScopes(%q) = %v, want %v", tt.db, got, tt.restoreWant)
			}
		})
	}
}
