package mailer

import (
	"errors"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/pause"
)

// metrics are the outbox's Prometheus series, registered on the Registerer
// given to New (none when it is nil).
type metrics struct {
	sent, failed, retried *prometheus.CounterVec
	outages               prometheus.Counter
	sendSeconds           prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, gate *pause.Gate) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbook_emails_sent_total", Help: "Emails the SMTP server accepted, by kind.",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbook_emails_failed_total", Help: "Emails given up on (refused by the server or out of attempts), by kind.",
		}, []string{"kind"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbook_emails_retried_total", Help: "Temporary SMTP refusals scheduled for another attempt, by kind.",
		}, []string{"kind"}),
		outages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbook_smtp_unreachable_total", Help: "Times the SMTP server could not be reached or dropped the connection.",
		}),
		sendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "callbook_email_send_seconds", Help: "Time to hand one email to the SMTP server.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.retried, m.outages, m.sendSeconds, pauseCollector{gate}} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

// Series of the delivery pause, read from the gate at each scrape.
var (
	pausedDesc = prometheus.NewDesc("callbook_smtp_paused",
		"1 while mail delivery is paused because the SMTP server cannot be reached, else 0.", nil, nil)
	pausedSinceDesc = prometheus.NewDesc("callbook_smtp_paused_since_seconds",
		"Unix time the current delivery pause began; 0 when not paused.", nil, nil)
	pauseFailuresDesc = prometheus.NewDesc("callbook_smtp_pause_failed_tries",
		"Consecutive failed tries to reach the SMTP server in the current pause.", nil, nil)
	pauseErrorDesc = prometheus.NewDesc("callbook_smtp_pause_last_error_info",
		"The last error of the current delivery pause, as a label; absent when not paused.", []string{"error"}, nil)
)

// pauseCollector exports the pause as it is at scrape time.
type pauseCollector struct{ gate *pause.Gate }

func (c pauseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pausedDesc
	ch <- pausedSinceDesc
	ch <- pauseFailuresDesc
	ch <- pauseErrorDesc
}

func (c pauseCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.gate.State()
	paused, since := 0.0, 0.0
	if st.Paused {
		paused, since = 1, float64(st.Since.Unix())
	}
	ch <- prometheus.MustNewConstMetric(pausedDesc, prometheus.GaugeValue, paused)
	ch <- prometheus.MustNewConstMetric(pausedSinceDesc, prometheus.GaugeValue, since)
	ch <- prometheus.MustNewConstMetric(pauseFailuresDesc, prometheus.GaugeValue, float64(st.Failures))
	if st.Paused {
		msg := st.LastError
		if len(msg) > 300 {
			msg = msg[:300]
		}
		msg = strings.ToValidUTF8(msg, "?")
		ch <- prometheus.MustNewConstMetric(pauseErrorDesc, prometheus.GaugeValue, 1, msg)
	}
}
