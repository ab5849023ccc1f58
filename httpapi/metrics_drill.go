package httpapi

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowg-backup/flowg/backup"
)

// drillReadTimeout bounds reading the newest drill record at a scrape (a
// directory listing, or one S3 listing and one GET).
const drillReadTimeout = 5 * time.Second

// drillCollector exports the newest restore drill recorded in the catalog
// (by `flowg admin drill` or --backup-drill), read at every scrape, so a
// drill run by another process shows too. Every series exists from the
// start: at 0 until a first drill is recorded. A record that cannot be
// read leaves the values of the last one read.
type drillCollector struct {
	base context.Context
	last func(ctx context.Context) (backup.DrillRecord, bool, error)
	log  *slog.Logger

	mu   sync.Mutex
	rec  backup.DrillRecord
	have bool

	time, success, rto, rpo *prometheus.Desc
}

func newDrillCollector(base context.Context, last func(context.Context) (backup.DrillRecord, bool, error), log *slog.Logger) *drillCollector {
	return &drillCollector{base: base, last: last, log: log,
		time: prometheus.NewDesc("flowg_drill_last_timestamp_seconds",
			"Unix time at which the last restore drill recorded in the backup catalog started (0: none).", nil, nil),
		success: prometheus.NewDesc("flowg_drill_last_success",
			"1 if the last restore drill passed (restored, served, key counts matched), 0 if it failed or there was none. "+
				"Alert on flowg_drill_last_success == 0 or time() - flowg_drill_last_timestamp_seconds > 8*86400.", nil, nil),
		rto: prometheus.NewDesc("flowg_drill_last_rto_seconds",
			"RTO measured by the last restore drill: from the start of the restore to a server answering for every database (0: none).", nil, nil),
		rpo: prometheus.NewDesc("flowg_drill_last_rpo_seconds",
			"RPO of the last restore drill: the age of the restored set's data when the drill started (0: none).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (d *drillCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.time
	ch <- d.success
	ch <- d.rto
	ch <- d.rpo
}

// Collect implements prometheus.Collector: it reads the newest record.
func (d *drillCollector) Collect(ch chan<- prometheus.Metric) {
	rec, have := d.read()
	var at, ok float64
	if have {
		at = unixSeconds(rec.Time)
		if rec.OK() {
			ok = 1
		}
	}
	ch <- prometheus.MustNewConstMetric(d.time, prometheus.GaugeValue, at)
	ch <- prometheus.MustNewConstMetric(d.success, prometheus.GaugeValue, ok)
	ch <- prometheus.MustNewConstMetric(d.rto, prometheus.GaugeValue, rec.RTOSeconds)
	ch <- prometheus.MustNewConstMetric(d.rpo, prometheus.GaugeValue, rec.RPOSeconds)
}

// read returns the newest record, or the last one read when it cannot.
func (d *drillCollector) read() (backup.DrillRecord, bool) {
	ctx, cancel := context.WithTimeout(d.base, drillReadTimeout)
	defer cancel()
	rec, have, err := d.last(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.log.Warn("read the last restore drill for the metrics", "error", err)
		return d.rec, d.have
	}
	d.rec, d.have = rec, have
	return rec, have
}
