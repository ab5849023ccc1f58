package backup

import (
	"errors"
	"testing"
	"time"
)

func TestNewest_NeverASafetySet(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	set := func(id string, min int, trigger, label string) SetInfo {
		return SetInfo{Manifest: Manifest{ID: id, Created: at.Add(time.Duration(min) * time.Minute), Trigger: trigger, Status: StatusComplete,
			Databases: map[string]DBEntry{"auth": {}, "config": {}, "logs": {}}}, Label: label}
	}
	sets := []SetInfo{
		set("safety", 3, TriggerPreRestore, LabelRestoreVerified),
		set("old-verified", 0, TriggerManual, LabelRestoreVerified),
		set("new-unverified", 2, TriggerScheduled, LabelCreated),
		set("verified", 1, TriggerScheduled, LabelRestoreVerified),
	}
	if got, ok := Newest(sets, IsComplete); !ok || got.ID != "new-unverified" {
		t.Errorf("Newest(complete) = %s, %v; want new-unverified, not the newer safety set", got.ID, ok)
	}
	c, err := PickRestoreSet(sets, []string{"auth", "logs"}, "cat")
	if err != nil || c.Set.ID != "verified" || c.Warning != "" {
		t.Errorf("PickRestoreSet = %+v, %v; want verified, no warning", c, err)
	}
	c, err = PickRestoreSet(sets[1:3][1:], []string{"auth"}, "cat")
	if err != nil || c.Set.ID != "new-unverified" || c.Warning == "" {
		t.Errorf("PickRestoreSet(no verified) = %+v, %v; want new-unverified with a warning", c, err)
	}
	if _, err := PickRestoreSet(sets[:1], []string{"auth"}, "cat"); !errors.Is(err, ErrNoCompleteSet) {
		t.Errorf("PickRestoreSet(only a safety set) = %v; want ErrNoCompleteSet", err)
	}
}
