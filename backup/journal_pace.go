package backup

import "time"

// segmentTargetBytes is the captured bytes past which a segment is written
// at once rather than at the end of the interval. The time a segment takes
// to write grows with its size, and is part of the lag of every change in
// it: under full ingest (8 MB/s on two cores) a second's segment took 0.2 s
// to write, up to 0.8 s on a busy machine, and a change waited the
// interval plus that; at 4 MiB a segment is written about every half
// second there, in half the time. A quiet database still writes one
// segment per interval.
const segmentTargetBytes = 4 << 20

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

// inFlight counts changes drained from the capture buffer, and not yet in
// a segment, in the lag: from the drain until the segment is written the
// buffer no longer holds them, and the lag read 0 while the oldest of them
// waited for the write (the gauge's maximum stayed under the interval while
// changes reached the catalog up to 0.7 s later).
func (j *dbJournal) inFlight(marks []mark) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.carriedAt.IsZero() && len(marks) > 0 {
		j.carriedAt = marks[0].time
	}
}
