// Package duration parses the lifetimes and ages flowg takes from people:
// a Go duration ("720h", "90m") or a whole number of days ("30d"). The HTTP
// API (token expiry, stream TTL) and the command line (--max-age,
// --backup-max-age) both call Parse, so they accept the same values and
// refuse bad ones with the same message.
package duration

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is the length of the "d" unit: 24 hours, whatever the calendar says.
const Day = 24 * time.Hour

// maxDays is the largest number of days a time.Duration holds.
const maxDays = int64(1<<63-1) / int64(Day)

// Parse parses s as Go writes a duration ("720h", "1h30m") or as a whole
// number of days ("30d"), around optional spaces. "" and "0" mean zero.
// Negative, fractional-day and overflowing values are refused; every
// error quotes s and says which forms are accepted.
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative: use e.g. 720h, 90m or 30d", s)
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration: use e.g. 720h, 90m or 30d (whole days only)", s)
		}
		if n > maxDays {
			return 0, fmt.Errorf("%q is too long: at most %dd", s, maxDays)
		}
		return time.Duration(n) * Day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: use e.g. 720h, 90m or 30d", s)
	}
	return d, nil
}

// MinRetentionAge is the shortest age a retention policy accepts. Backup
// sets are kept for days; a shorter age is far more likely a slip ("1m"
// is one minute, not one month) than a wish to delete every set older
// than a few minutes, including the safety snapshots restores point to.
const MinRetentionAge = time.Hour

// ParseRetentionAge is Parse for the age past which backup sets are
// deleted: "" and "0" mean no limit, and anything under MinRetentionAge is
// refused with the reading that was probably meant.
func ParseRetentionAge(s string) (time.Duration, error) {
	d, err := Parse(s)
	if err != nil || d == 0 || d >= MinRetentionAge {
		return d, err
	}
	return 0, fmt.Errorf("%q is %s, which would delete nearly every backup set: give at least %s (a month is 30d, not 1m)",
		strings.TrimSpace(s), d, MinRetentionAge)
}
