package quota

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Rate
		bad  string
	}{
		{in: "6/h", want: Rate{6, time.Hour}},
		{in: " 20 / 24h ", want: Rate{20, 24 * time.Hour}},
		{in: "100/7d", want: Rate{100, 7 * 24 * time.Hour}},
		{in: "3/30m", want: Rate{3, 30 * time.Minute}},
		{in: "0", want: Rate{}},
		{in: "6", bad: "write COUNT/DURATION"},
		{in: "0/h", bad: "write COUNT/DURATION"},
		{in: "-1/h", bad: "write COUNT/DURATION"},
		{in: "6/x", bad: "after the / give a duration"},
		{in: "6/0s", bad: "after the / give a duration"},
	} {
		got, err := ParseRate(tt.in)
		switch {
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("ParseRate(%q): err %v, want one saying %q", tt.in, err, tt.bad)
		case tt.bad == "" && (err != nil || got != tt.want):
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestLimiter_PerKeyAndRefill(t *testing.T) {
	l := NewLimiter(Rate{Count: 3, Per: time.Hour})
	now := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("alice", now); !ok {
			t.Fatalf("action %d of 3 refused", i+1)
		}
	}
	ok, wait := l.Allow("alice", now)
	if ok || wait != 20*time.Minute {
		t.Fatalf("4th action: allowed %v, wait %v; want refused for 20m", ok, wait)
	}
	if ok, _ := l.Allow("bob", now); !ok {
		t.Fatalf("another key is limited by alice's actions")
	}
	if ok, _ := l.Allow("alice", now.Add(20*time.Minute)); !ok {
		t.Fatalf("refused after the wait it gave")
	}
	if ok, _ := l.Allow("alice", now.Add(21*time.Minute)); ok {
		t.Fatalf("refused actions were counted back: a 5th action allowed within one refill")
	}
	if got := RetryAfterSeconds(1500 * time.Millisecond); got != 2 {
		t.Fatalf("RetryAfterSeconds(1.5s) = %d, want 2", got)
	}
}

func TestLimiter_ZeroAllowsEverything(t *testing.T) {
	l := NewLimiter(Rate{})
	for range 100 {
		if ok, _ := l.Allow("a", time.Now()); !ok {
			t.Fatal("a zero rate refused an action")
		}
	}
}
