package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowg-backup/flowg/backup"
	"github.com/flowg-backup/flowg/kv"
)

// Restore modes, as labelled in metrics and named in restore answers.
const (
	modeMerge = "merge"
	modeWipe  = "wipe"
)

// metrics are the Prometheus metrics of one Server, in a registry of its
// own (so two Servers in one process, as in tests, do not collide).
type metrics struct {
	reg *prometheus.Registry

	backups         *prometheus.CounterVec
	backupFailures  *prometheus.CounterVec
	backupDuration  *prometheus.HistogramVec
	backupBytes     *prometheus.CounterVec
	backupLast      *prometheus.GaugeVec
	verifiedLast    *prometheus.GaugeVec
	catalogRuns     *prometheus.CounterVec
	catalogVerified *prometheus.CounterVec

	// lastMu guards streamed and catalog, the two sources of backupLast.
	lastMu   sync.Mutex
	streamed map[string]time.Time // last online backup streamed, per database
	catalog  map[string]time.Time // newest complete set in the catalog, per database

	restores        *prometheus.CounterVec
	restoreFailures *prometheus.CounterVec
	restoreDuration *prometheus.HistogramVec
	restoreBytes    *prometheus.CounterVec
	restoreKeys     *prometheus.CounterVec
	restoreLast     *prometheus.GaugeVec

	requests *prometheus.CounterVec
}

// durationBuckets span a tiny database (10 ms) to a large one (about 3 h).
var durationBuckets = prometheus.ExponentialBuckets(0.01, 4, 10)

func newMetrics() *metrics {
	db := []string{"database"}
	dbMode := []string{"database", "mode"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		backups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_backups_total",
			Help: "Online backups started, per database."}, db),
		backupFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_backup_failures_total",
			Help: "Online backups that did not complete (error or client gone), per database."}, db),
		backupDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flowg_backup_duration_seconds",
			Help: "Time to stream a complete online backup, per database.", Buckets: durationBuckets}, db),
		backupBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_backup_bytes_total",
			Help: "Bytes of backup files sent, per database."}, db),
		backupLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowg_backup_last_success_timestamp_seconds",
			Help: "Unix time of the newest complete backup of each database: the creation time of the newest set in the backup catalog " +
				"labelled created or restore-verified, or the end of the last online backup streamed to a client, whichever is newer (0: none)."}, db),
		verifiedLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowg_backup_last_verified_timestamp_seconds",
			Help: "Unix time at which the newest restore-verified set of each database in the backup catalog was taken (0: none). " +
				"Alert on time() - flowg_backup_last_verified_timestamp_seconds > 26*3600."}, db),
		catalogRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_backup_set_runs_total",
			Help: "Backup sets written into the catalog, per trigger (manual, scheduled) and result (ok, verify_failed, failed)."},
			[]string{"trigger", "result"}),
		catalogVerified: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_backup_set_verifications_total",
			Help: "Verifications of catalog sets asked through the API, per result (ok, failed)."}, []string{"result"}),
		streamed: map[string]time.Time{},
		catalog:  map[string]time.Time{},

		restores: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_restores_total",
			Help: "Online restores started (after the busy check), per database and mode."}, dbMode),
		restoreFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_restore_failures_total",
			Help: "Online restores that did not complete, per database, mode and reason (input: bad upload, nothing changed; error: server-side)."},
			[]string{"database", "mode", "reason"}),
		restoreDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flowg_restore_duration_seconds",
			Help: "Time of a complete online restore, upload included, per database and mode.", Buckets: durationBuckets}, dbMode),
		restoreBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_restore_upload_bytes_total",
			Help: "Bytes of restore uploads received, per database."}, db),
		restoreKeys: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_restore_keys_written_total",
			Help: "Keys written by completed online restores, per database."}, db),
		restoreLast: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowg_restore_last_success_timestamp_seconds",
			Help: "Unix time of the last completed online restore, per database (0: none since start)."}, db),

		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowg_http_requests_total",
			Help: "HTTP requests answered, per method, route and status code."}, []string{"method", "route", "code"}),
	}
	m.reg.MustRegister(m.backups, m.backupFailures, m.backupDuration, m.backupBytes, m.backupLast,
		m.verifiedLast, m.catalogRuns, m.catalogVerified,
		m.restores, m.restoreFailures, m.restoreDuration, m.restoreBytes, m.restoreKeys, m.restoreLast,
		m.requests, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, trigger := range []string{"manual", "scheduled"} {
		for _, result := range []string{"ok", "verify_failed", "failed"} {
			m.catalogRuns.WithLabelValues(trigger, result)
		}
	}
	m.startAtZero()
	// Every database shows from the start, at zero.
	for _, n := range kv.Names {
		name := string(n)
		m.backups.WithLabelValues(name)
		m.backupFailures.WithLabelValues(name)
		m.backupBytes.WithLabelValues(name)
		m.backupLast.WithLabelValues(name)
		m.verifiedLast.WithLabelValues(name)
		m.restoreBytes.WithLabelValues(name)
		m.restoreKeys.WithLabelValues(name)
		m.restoreLast.WithLabelValues(name)
		for _, mode := range []string{modeMerge, modeWipe} {
			m.restores.WithLabelValues(name, mode)
		}
	}
	return m
}

// handler serves the registry in the Prometheus exposition format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) backupStarted(n kv.Name) { m.backups.WithLabelValues(string(n)).Inc() }

// backupFinished records the end of a backup that sent sent bytes.
func (m *metrics) backupFinished(n kv.Name, took time.Duration, sent int64, err error) {
	name := string(n)
	m.backupBytes.WithLabelValues(name).Add(float64(sent))
	if err != nil {
		m.backupFailures.WithLabelValues(name).Inc()
		return
	}
	m.backupDuration.WithLabelValues(name).Observe(took.Seconds())
	m.lastMu.Lock()
	defer m.lastMu.Unlock()
	m.streamed[name] = time.Now()
	m.setLast(name)
}

// catalogTimes sets, per database, the creation time of the newest complete
// set and of the newest restore-verified set of the catalog; a database
// missing from a map has none.
func (m *metrics) catalogTimes(complete, verified map[string]time.Time) {
	m.lastMu.Lock()
	defer m.lastMu.Unlock()
	m.catalog = complete
	for _, n := range kv.Names {
		name := string(n)
		m.setLast(name)
		m.verifiedLast.WithLabelValues(name).Set(unixSeconds(verified[name]))
	}
}

// setLast sets the last-success gauge of name to the newer of its two
// sources. The caller holds lastMu.
func (m *metrics) setLast(name string) {
	last := m.catalog[name]
	if t := m.streamed[name]; t.After(last) {
		last = t
	}
	m.backupLast.WithLabelValues(name).Set(unixSeconds(last))
}

// unixSeconds is t as a Prometheus timestamp; 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// catalogRun counts a backup run into the catalog.
func (m *metrics) catalogRun(trigger, result string) {
	m.catalogRuns.WithLabelValues(trigger, result).Inc()
}

// catalogVerify counts a verification asked through the API.
func (m *metrics) catalogVerify(result string) {
	m.catalogVerified.WithLabelValues(result).Inc()
}

func (m *metrics) restoreStarted(n kv.Name, mode string) {
	m.restores.WithLabelValues(string(n), mode).Inc()
}

// restoreFinished records the end of a restore; reason is "" on success.
func (m *metrics) restoreFinished(n kv.Name, mode string, took time.Duration, uploaded int64, written uint64, reason string) {
	name := string(n)
	m.restoreBytes.WithLabelValues(name).Add(float64(uploaded))
	if reason != "" {
		m.restoreFailures.WithLabelValues(name, mode, reason).Inc()
		return
	}
	m.restoreDuration.WithLabelValues(name, mode).Observe(took.Seconds())
	m.restoreKeys.WithLabelValues(name).Add(float64(written))
	m.restoreLast.WithLabelValues(name).SetToCurrentTime()
}

// request counts an answered request. Methods outside the standard set are
// counted as "other", so clients cannot grow the label set.
func (m *metrics) request(method, route string, status int) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions:
	default:
		method = "other"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
}

// startAtZero creates, at zero, every series an alert reads that would
// otherwise appear only with its first event: Prometheus' increase() and
// rate() miss that first event on a series that did not exist before it.
func (m *metrics) startAtZero() {
	for _, result := range []string{"ok", "failed"} {
		m.catalogVerified.WithLabelValues(result)
	}
	for _, n := range kv.Names {
		name := string(n)
		m.backupDuration.WithLabelValues(name)
		for _, mode := range []string{modeMerge, modeWipe} {
			m.restoreDuration.WithLabelValues(name, mode)
			for _, reason := range []string{"input", "error"} {
				m.restoreFailures.WithLabelValues(name, mode, reason)
			}
		}
	}
}

// watchIncomplete exports flowg_restore_incomplete, per database of dirs: 1
// while a merge restore's marker says it holds part of a backup (see
// backup.FindIncomplete), read at each scrape.
func (m *metrics) watchIncomplete(dirs kv.Dirs) {
	for _, n := range kv.Names {
		dir := dirs.Of(n)
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "flowg_restore_incomplete",
			Help:        "1 while a merge restore of the database did not finish (it holds part of a backup); run that restore again or undo it.",
			ConstLabels: prometheus.Labels{"database": string(n)},
		}, func() float64 {
			if m, _ := backup.FindIncomplete(dir); m != nil {
				return 1
			}
			return 0
		}))
	}
}
