package restore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowg-backup/flowg/kv"
)

// verified is a catalog whose restore-verified sets are the names true.
type verified map[string]bool

func (v verified) HasVerified(_ context.Context, name string) (bool, error) { return v[name], nil }

// The guard's cases, for a server (whose wipes take a safety snapshot) and
// an offline restore (whose wipes keep the previous directory instead).
func TestGuard_Cases(t *testing.T) {
	tests := []struct {
		name          string
		req           Request
		wipeSnapshots bool
		refused       bool   // with no restore-verified set
		warn          string // in the warning when skip_backup_check or a verified set lets it through
	}{
		{"merge keeps its snapshot", Request{}, true, false, ""},
		{"wipe keeps both", Request{Wipe: true}, true, false, ""},
		{"offline wipe keeps its directory", Request{Wipe: true}, false, false, ""},
		{"merge without snapshot", Request{NoSafetySnapshot: true}, true, true, "no safety snapshot is taken before the merge"},
		{"offline merge without snapshot", Request{NoSafetySnapshot: true}, false, true, "no safety snapshot is taken before the merge"},
		{"wipe without snapshot keeps the directory", Request{Wipe: true, NoSafetySnapshot: true}, true, true, "still kept aside"},
		{"offline wipe without snapshot gives up nothing", Request{Wipe: true, NoSafetySnapshot: true}, false, false, ""},
		{"wipe discarding the directory keeps the snapshot", Request{Wipe: true, DiscardPrevious: true}, true, true, "safety snapshot still holds"},
		{"offline wipe discarding the directory", Request{Wipe: true, DiscardPrevious: true}, false, true, "the previous database directory is deleted, not kept aside"},
		{"wipe giving up both", Request{Wipe: true, DiscardPrevious: true, NoSafetySnapshot: true}, true, true, "no safety snapshot is taken and the previous database directory is deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Databases = []kv.Name{kv.Config}
			warnings, err := Guard(context.Background(), req, tt.wipeSnapshots, verified{})
			if tt.refused != errors.Is(err, ErrNoVerifiedSet) {
				t.Fatalf("Guard without a verified set = %v, want refused %v", err, tt.refused)
			}
			if !tt.refused {
				if len(warnings) != 0 {
					t.Errorf("warnings = %q, want none", warnings)
				}
				return
			}
			if !strings.Contains(err.Error(), "no restore-verified set of the config database") {
				t.Errorf("refusal = %q, want it to name the database", err)
			}
			warnings, err = Guard(context.Background(), req, tt.wipeSnapshots, verified{"config": true})
			if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], tt.warn) || !strings.Contains(warnings[0], "way back") {
				t.Errorf("Guard with a verified set = %q, %v, want one warning with %q", warnings, err, tt.warn)
			}
			req.SkipBackupCheck = true
			warnings, err = Guard(context.Background(), req, tt.wipeSnapshots, verified{})
			if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], tt.warn) || !strings.Contains(warnings[0], "no restore-verified backup was required") {
				t.Errorf("Guard with skip = %q, %v, want one warning with %q", warnings, err, tt.warn)
			}
		})
	}
}

func TestRequest_Validate(t *testing.T) {
	tests := []struct {
		name   string
		req    Request
		option string
	}{
		{"discard without wipe", Request{DiscardPrevious: true}, "DiscardPrevious"},
		{"bad instant", Request{At: "yesterday"}, "At"},
		{"instant and set", Request{At: "latest", Set: "x"}, "Set"},
		{"unknown database", Request{Databases: []kv.Name{"users"}}, "Databases"},
		{"database twice", Request{Databases: []kv.Name{kv.Auth, kv.Auth}}, "Databases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			var bad *RequestError
			if !errors.As(err, &bad) || bad.Option != tt.option || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("Validate = %v, want a RequestError on %s", err, tt.option)
			}
		})
	}
	req := Request{At: "latest"}
	if err := req.Validate(); err != nil || !req.AtLatest || len(req.Databases) != len(kv.Names) {
		t.Errorf("Validate of at=latest = %v, %+v; want every database, latest", err, req)
	}
}

func TestRevived_WarningsWordedOnce(t *testing.T) {
	rv := Revived{}
	for _, k := range []string{"user/alice", "user/bob", "token/t1", "role/admin"} {
		rv.Add([]byte(k))
	}
	got := strings.Join(rv.Warnings(), "\n")
	for _, want := range []string{"brought back 1 token the database no longer held", "t1", "brought back 2 users", "alice, bob"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings = %q, want %q", got, want)
		}
	}
}
