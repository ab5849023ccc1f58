package backup

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRetention_Decide(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	set := func(hoursAgo int, trigger, label string, dbs ...string) SetInfo {
		created := now.Add(-time.Duration(hoursAgo) * time.Hour)
		m := Manifest{ID: NewSetID(created), Created: created, Trigger: trigger, Status: StatusComplete, Databases: map[string]DBEntry{}}
		if label == LabelFailed {
			m.Status = StatusFailed
		}
		for _, db := range dbs {
			m.Databases[db] = DBEntry{}
		}
		return SetInfo{Manifest: m, Label: label}
	}
	on := func(s, parent SetInfo) SetInfo { s.Parent = parent.ID; return s }
	running := func(hoursAgo int, parent SetInfo) SetInfo {
		created := now.Add(-time.Duration(hoursAgo) * time.Hour)
		return SetInfo{Manifest: Manifest{ID: NewSetID(created), Created: created, Parent: parent.ID}, Label: LabelRunning}
	}
	all := []string{"auth", "config", "logs"}
	base := set(10, TriggerScheduled, LabelCreated, all...)
	verifiedBase := set(10, TriggerScheduled, LabelRestoreVerified, "logs")
	tests := []struct {
		name   string
		policy Retention
		sets   []SetInfo // newest first
		drop   []int     // indexes into sets
		// why, when set, is part of the reason given for each set.
		why []string
	}{
		{"keep N drops the oldest", Retention{Keep: 2}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(2, TriggerScheduled, LabelCreated, all...),
			set(3, TriggerManual, LabelCreated, all...),
			set(4, TriggerScheduled, LabelCreated, all...),
		}, []int{2, 3}, []string{"newest usable set of auth", "2nd", "each of its databases keeps 2 newer sets (auth 2, config 2, logs 2)", "(auth 3, config 3, logs 3)"}},
		{"logs-only sets never push out the only auth and config set", Retention{Keep: 3}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(2, TriggerManual, LabelCreated, "logs"),
			set(3, TriggerManual, LabelCreated, "logs"),
			set(4, TriggerManual, LabelCreated, "logs"),
			set(5, TriggerManual, LabelCreated, "logs"),
			set(6, TriggerScheduled, LabelCreated, all...),
		}, []int{3, 4}, []string{"", "", "", "(logs 3)", "(logs 4)", "the newest usable set of auth"}},
		{"an older full set goes once auth and config have N newer sets", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(2, TriggerScheduled, LabelCreated, all...),
			set(3, TriggerScheduled, LabelCreated, all...),
		}, []int{2}, []string{"", "the newest usable set of auth", "(auth 1, config 1, logs 2)"}},
		{"max age drops old sets", Retention{MaxAge: 48 * time.Hour}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(47, TriggerScheduled, LabelCreated, all...),
			set(49, TriggerScheduled, LabelCreated, all...),
		}, []int{2}, []string{"", "younger than the maximum age 48h0m0s", "older than the maximum age"}},
		{"max age never drops the newest usable set of a database", Retention{MaxAge: 48 * time.Hour}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(60, TriggerManual, LabelCreated, "logs"),
			set(100, TriggerScheduled, LabelCreated, all...),
		}, []int{1}, []string{"", "", "the newest usable set of auth"}},
		{"never the newest restore-verified set", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(2, TriggerScheduled, LabelVerifyFailed, all...),
			set(3, TriggerScheduled, LabelRestoreVerified, all...),
			set(4, TriggerScheduled, LabelRestoreVerified, all...),
		}, []int{1, 3}, []string{"", "", "the newest restore-verified set of auth", ""}},
		{"newest verified kept per database", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerScheduled, LabelRestoreVerified, "logs"),
			set(2, TriggerScheduled, LabelRestoreVerified, "auth", "config"),
			set(3, TriggerScheduled, LabelRestoreVerified, all...),
		}, []int{2}, nil},
		{"logs-only sets never push out the newest verified full set", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(2, TriggerManual, LabelCreated, "logs"),
			set(3, TriggerScheduled, LabelCreated, all...),
			set(4, TriggerScheduled, LabelRestoreVerified, all...),
		}, []int{1}, []string{"", "", "", "the newest restore-verified set of auth"}},
		{"a verified pre-restore set never replaces the newest verified scheduled set", Retention{Keep: 1, MaxAge: 24 * time.Hour}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(2, TriggerPreRestore, LabelRestoreVerified, "auth"),
			set(3, TriggerScheduled, LabelCreated, all...),
			set(4, TriggerScheduled, LabelRestoreVerified, all...),
		}, []int{2}, []string{"", "restore-verified set of auth (counting pre-restore sets)", "", "the newest restore-verified set of auth"}},
		{"pre-restore sets kept for the max age, not counted", Retention{Keep: 1, MaxAge: 24 * time.Hour}, []SetInfo{
			set(1, TriggerPreRestore, LabelCreated, "auth"),
			set(2, TriggerScheduled, LabelCreated, all...),
			set(3, TriggerPreRestore, LabelCreated, "auth"),
			set(25, TriggerPreRestore, LabelCreated, "auth"),
		}, []int{3}, []string{"", "", "a pre-restore safety set younger than the maximum age", "a pre-restore safety set older"}},
		{"pre-restore sets never push out scheduled sets", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerPreRestore, LabelCreated, all...),
			set(2, TriggerPreRestore, LabelCreated, all...),
			set(3, TriggerScheduled, LabelCreated, all...),
			set(4, TriggerScheduled, LabelCreated, all...),
		}, []int{3}, []string{"", "kept until the maximum age, and none is set", "the newest usable manual or scheduled set of auth", ""}},
		{"pre-restore dropped after the max age", Retention{MaxAge: 24 * time.Hour}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(30, TriggerPreRestore, LabelCreated, "auth"),
		}, []int{1}, nil},
		{"chain bases kept", Retention{Keep: 1}, []SetInfo{
			on(set(1, TriggerScheduled, LabelCreated, all...), base),
			base,
			set(20, TriggerScheduled, LabelCreated, all...),
		}, []int{2}, []string{"", "which is kept, builds on it", ""}},
		{"a chain goes whole once its newest link goes", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			on(set(2, TriggerScheduled, LabelCreated, all...), base),
			base,
		}, []int{1, 2}, nil},
		{"the base of a running incremental set is kept", Retention{Keep: 1}, []SetInfo{
			running(1, base),
			set(2, TriggerScheduled, LabelCreated, all...),
			base,
		}, nil, []string{"being written", "", "which is kept, builds on it"}},
		{"a verified link keeps its verified base", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			on(set(2, TriggerScheduled, LabelRestoreVerified, "logs"), verifiedBase),
			verifiedBase,
		}, nil, nil},
		{"failed runs dropped once a newer run succeeded", Retention{Keep: 5}, []SetInfo{
			set(1, TriggerScheduled, LabelFailed),
			set(2, TriggerScheduled, LabelCreated, all...),
			set(3, TriggerScheduled, LabelFailed),
		}, []int{2}, []string{"no newer run completed", "", "a newer run completed"}},
		{"a logs-only set never ages out the only scheduled auth and config set", Retention{MaxAge: 30 * 24 * time.Hour}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(48, TriggerPreRestore, LabelCreated, "auth"),
			set(48, TriggerPreRestore, LabelCreated, "config"),
			set(47*24, TriggerScheduled, LabelCreated, all...),
		}, nil, []string{"the newest usable set of logs", "the newest usable set of auth", "the newest usable set of config",
			"the newest usable manual or scheduled set of auth"}},
		{"an old full set ages out once each database has a newer real set", Retention{MaxAge: 30 * 24 * time.Hour}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(24, TriggerScheduled, LabelCreated, all...),
			set(48, TriggerPreRestore, LabelCreated, "auth"),
			set(47*24, TriggerScheduled, LabelCreated, all...),
		}, []int{3}, []string{"", "the newest usable set of auth", "", "older than the maximum age"}},
		{"a logs-only set never erases a failed scheduled run", Retention{Keep: 3}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(2, TriggerScheduled, LabelFailed),
			set(10, TriggerScheduled, LabelCreated, all...),
		}, nil, []string{"", "no newer run completed yet for each database", ""}},
		{"a failed run goes once newer runs completed for each database", Retention{Keep: 3}, []SetInfo{
			set(1, TriggerManual, LabelCreated, "logs"),
			set(2, TriggerManual, LabelCreated, "auth", "config"),
			set(3, TriggerScheduled, LabelFailed),
			set(10, TriggerScheduled, LabelCreated, all...),
		}, []int{2}, []string{"", "", "a newer run completed for each database", ""}},
		{"a pre-restore set is no newer run for a failed one", Retention{Keep: 3}, []SetInfo{
			set(1, TriggerPreRestore, LabelCreated, all...),
			set(2, TriggerScheduled, LabelFailed),
			set(10, TriggerScheduled, LabelCreated, all...),
		}, nil, []string{"", "no newer run completed yet", ""}},
		{"running sets never dropped", Retention{Keep: 1, MaxAge: time.Hour}, []SetInfo{
			{Manifest: Manifest{ID: NewSetID(now.Add(-5 * time.Hour)), Created: now.Add(-5 * time.Hour)}, Label: LabelRunning},
		}, nil, nil},
		{"zero policy keeps everything", Retention{}, []SetInfo{
			set(1000, TriggerScheduled, LabelCreated, all...),
			set(1001, TriggerScheduled, LabelCreated, all...),
			set(1002, TriggerScheduled, LabelFailed),
		}, nil, []string{"no limit by count or age", "no limit by count or age", "no limit by count or age"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, i := range tt.drop {
				want = append(want, tt.sets[i].ID)
			}
			got := tt.policy.Select(tt.sets, now)
			if !slices.Equal(got, want) {
				t.Fatalf("Select = %v, want %v\n%s", got, want, decisions(tt.policy.Decide(tt.sets, now)))
			}
			ds := tt.policy.Decide(tt.sets, now)
			for i, why := range tt.why {
				if ds[i].ID != tt.sets[i].ID || !strings.Contains(ds[i].Reason, why) {
					t.Errorf("set %d: decision %+v, want its reason to contain %q", i, ds[i], why)
				}
			}
		})
	}
}

func decisions(ds []Decision) string {
	var b strings.Builder
	for _, d := range ds {
		verb := "keep"
		if d.Delete {
			verb = "delete"
		}
		b.WriteString(verb + " " + d.ID + ": " + d.Reason + "\n")
	}
	return b.String()
}
