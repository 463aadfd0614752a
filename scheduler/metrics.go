package scheduler

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scheduler's Prometheus series, one label value per job.
type metrics struct {
	runs     *prometheus.CounterVec
	failures *prometheus.CounterVec
	items    *prometheus.CounterVec
}

// newMetrics builds the series and registers them with reg, when given.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"job"})
	}
	m := &metrics{
		runs:     vec("callbook_job_runs_total", "Scheduled job runs, by job."),
		failures: vec("callbook_job_failures_total", "Scheduled job runs that failed, by job."),
		items:    vec("callbook_job_items_total", "Items handled by scheduled jobs (reminders queued, emails sent, digests queued, rows cleaned), by job."),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.runs, m.failures, m.items} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// init makes a job's series exist at zero before its first run, so rates
// and alerts see it from the start.
func (m *metrics) init(job string) {
	m.runs.WithLabelValues(job)
	m.failures.WithLabelValues(job)
	m.items.WithLabelValues(job)
}

// observe counts one run.
func (m *metrics) observe(job string, items int, err error) {
	m.runs.WithLabelValues(job).Inc()
	if err != nil {
		m.failures.WithLabelValues(job).Inc()
	}
	if items > 0 {
		m.items.WithLabelValues(job).Add(float64(items))
	}
}
