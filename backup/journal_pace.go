package backup

import "time"

// The shipper promises that a change is in the catalog at most an interval
// after it was captured. A segment takes time to write (encode, compress,
// fsync: a good part of a second for a busy second of ingest on two
// cores), so draining every interval would ship the oldest change of each
// segment an interval plus that time after it came. Instead the next drain
// comes early by the time the last segment took, counted from the drain
// itself: the ticker is reset once the segment is written, so the next
// period is the interval less twice the time a segment takes. That time
// varies from one segment to the next (a busy machine), so the estimate
// is the longest recent one: it follows a longer write at once and
// forgets it by a quarter at each segment.
type pacer struct {
	took time.Duration // the estimate of a segment's write time
}

// next is the ticker period after a segment that took took to ship, so
// that the next one is in the catalog about an interval after this one's
// drain; at least a tenth of the interval.
func (p *pacer) next(interval, took time.Duration) time.Duration {
	p.took = max(took, p.took*3/4)
	return max(interval-2*p.took, interval/10)
}

// timedShip ships what was captured (see ship) and returns how long it took.
func (j *dbJournal) timedShip() time.Duration {
	start := time.Now()
	j.shipLogged(false)
	return time.Since(start)
}
