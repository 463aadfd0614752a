package mailer

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the outbox's Prometheus series, registered on the Registerer
// given to New (none when it is nil).
type metrics struct {
	sent, failed, retried *prometheus.CounterVec
	outages               prometheus.Counter
	sendSeconds           prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
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
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.retried, m.outages, m.sendSeconds} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
