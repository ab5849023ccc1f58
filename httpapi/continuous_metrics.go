package httpapi

import (
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/prometheus/client_golang/prometheus"
)

// The metrics of continuous backup (flowg serve --backup-continuous), read
// from the journal's status at each scrape.
var (
	continuousLagDesc = prometheus.NewDesc("flowg_backup_continuous_lag_seconds",
		"Seconds since the oldest change of each database not yet written to the journal was captured (0: every change is shipped). "+
			"Alert on flowg_backup_continuous_lag_seconds > 60.", []string{"database"}, nil)
	continuousShippedDesc = prometheus.NewDesc("flowg_backup_continuous_last_shipped_timestamp_seconds",
		"Unix time up to which the journal covers each database, advanced by idle watermarks too.", []string{"database"}, nil)
	continuousStagedDesc = prometheus.NewDesc("flowg_backup_continuous_staged_bytes",
		"Bytes of journal segments of each database waiting on local disk for the s3:// catalog to take them (0 for a local catalog).", []string{"database"}, nil)
)

// continuousCollector reports a journal's status as the two metrics.
type continuousCollector struct {
	status func() []backup.ContinuousStatus
	now    func() time.Time
}

func (c continuousCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- continuousLagDesc
	ch <- continuousShippedDesc
	ch <- continuousStagedDesc
}

func (c continuousCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.status() {
		lag := 0.0
		if !st.OldestUnshipped.IsZero() {
			lag = max(c.now().Sub(st.OldestUnshipped).Seconds(), 0)
		}
		shipped := 0.0
		if !st.LastShipped.IsZero() {
			shipped = float64(st.LastShipped.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(continuousLagDesc, prometheus.GaugeValue, lag, st.Database)
		ch <- prometheus.MustNewConstMetric(continuousShippedDesc, prometheus.GaugeValue, shipped, st.Database)
		ch <- prometheus.MustNewConstMetric(continuousStagedDesc, prometheus.GaugeValue, float64(st.StagedBytes), st.Database)
	}
}

// ExposeContinuous adds the continuous backup metrics to GET /metrics,
// read from status at each scrape.
func (s *Server) ExposeContinuous(status func() []backup.ContinuousStatus) error {
	return s.metrics.reg.Register(continuousCollector{status: status, now: time.Now})
}
