package duration

import (
	"strings"
	"testing"
	"time"
)

func TestParse_AcceptsGoDurationsAndWholeDays(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"empty means none", "", 0},
		{"zero means none", "0", 0},
		{"zero days", "0d", 0},
		{"hours", "720h", 720 * time.Hour},
		{"minutes", "90m", 90 * time.Minute},
		{"mixed units", "1h30m", 90 * time.Minute},
		{"days", "30d", 30 * 24 * time.Hour},
		{"one day", "1d", 24 * time.Hour},
		{"spaces around", "  7d ", 7 * 24 * time.Hour},
		{"the most days a duration holds", "106751d", 106751 * Day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParse_RefusesBadInputSayingWhatWorks(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		inErr string
	}{
		{"no unit", "30", `"30" is not a duration: use e.g. 720h, 90m or 30d`},
		{"a word", "month", `"month" is not a duration: use e.g. 720h, 90m or 30d`},
		{"an unknown unit", "2w", `"2w" is not a duration: use e.g. 720h, 90m or 30d`},
		{"fractional days", "1.5d", `"1.5d" is not a duration: use e.g. 720h, 90m or 30d (whole days only)`},
		{"days without a number", "d", `"d" is not a duration: use e.g. 720h, 90m or 30d`},
		{"days and hours", "1d12h", `"1d12h" is not a duration: use e.g. 720h, 90m or 30d`},
		{"negative hours", "-5h", `"-5h" is negative: use e.g. 720h, 90m or 30d`},
		{"negative days", "-3d", `"-3d" is negative: use e.g. 720h, 90m or 30d`},
		{"days past what a duration holds", "106752d", `"106752d" is too long: at most 106751d`},
		{"hours past what a duration holds", "9999999999h", `"9999999999h" is not a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.inErr) {
				t.Errorf("Parse(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.inErr)
			}
		})
	}
}

func TestParseRetentionAge_RefusesAgesUnderAnHour(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"", 0, ""},
		{"0", 0, ""},
		{"1h", time.Hour, ""},
		{"30d", 30 * Day, ""},
		{"1m", 0, `"1m" is 1m0s, which would delete nearly every backup set`},
		{"59m", 0, "a month is 30d"},
		{"bad", 0, "is not a duration"},
	} {
		got, err := ParseRetentionAge(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseRetentionAge(%q) = %v, %v; want %v and an error containing %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}
