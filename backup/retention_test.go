package backup

import (
	"slices"
	"testing"
	"time"
)

func TestRetention_Select(t *testing.T) {
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
	all := []string{"auth", "config", "logs"}
	tests := []struct {
		name   string
		policy Retention
		sets   []SetInfo // newest first
		drop   []int     // indexes into sets
	}{
		{"keep N drops the oldest", Retention{Keep: 2}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(2, TriggerScheduled, LabelCreated, all...),
			set(3, TriggerManual, LabelCreated, all...),
			set(4, TriggerScheduled, LabelCreated, all...),
		}, []int{2, 3}},
		{"max age drops old sets", Retention{MaxAge: 48 * time.Hour}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(47, TriggerScheduled, LabelCreated, all...),
			set(49, TriggerScheduled, LabelCreated, all...),
		}, []int{2}},
		{"never the newest restore-verified set", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(2, TriggerScheduled, LabelVerifyFailed, all...),
			set(3, TriggerScheduled, LabelRestoreVerified, all...),
			set(4, TriggerScheduled, LabelRestoreVerified, all...),
		}, []int{1, 3}},
		{"newest verified kept per database", Retention{Keep: 1}, []SetInfo{
			set(1, TriggerScheduled, LabelRestoreVerified, "logs"),
			set(2, TriggerScheduled, LabelRestoreVerified, "auth", "config"),
			set(3, TriggerScheduled, LabelRestoreVerified, all...),
		}, []int{2}},
		{"pre-restore sets kept for the max age, not counted", Retention{Keep: 1, MaxAge: 24 * time.Hour}, []SetInfo{
			set(1, TriggerPreRestore, LabelCreated, "auth"),
			set(2, TriggerScheduled, LabelCreated, all...),
			set(3, TriggerPreRestore, LabelCreated, "auth"),
			set(25, TriggerPreRestore, LabelCreated, "auth"),
		}, []int{3}},
		{"pre-restore dropped after the max age", Retention{MaxAge: 24 * time.Hour}, []SetInfo{
			set(1, TriggerScheduled, LabelCreated, all...),
			set(30, TriggerPreRestore, LabelCreated, "auth"),
		}, []int{1}},
		{"failed runs dropped once a newer run succeeded", Retention{Keep: 5}, []SetInfo{
			set(1, TriggerScheduled, LabelFailed),
			set(2, TriggerScheduled, LabelCreated, all...),
			set(3, TriggerScheduled, LabelFailed),
		}, []int{2}},
		{"running sets never dropped", Retention{Keep: 1, MaxAge: time.Hour}, []SetInfo{
			{Manifest: Manifest{ID: NewSetID(now.Add(-5 * time.Hour)), Created: now.Add(-5 * time.Hour)}, Label: LabelRunning},
		}, nil},
		{"zero policy keeps everything", Retention{}, []SetInfo{
			set(1000, TriggerScheduled, LabelCreated, all...),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, i := range tt.drop {
				want = append(want, tt.sets[i].ID)
			}
			got := tt.policy.Select(tt.sets, now)
			if !slices.Equal(got, want) {
				t.Fatalf("Select = %v, want %v", got, want)
			}
		})
	}
}
