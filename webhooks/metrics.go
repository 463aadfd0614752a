package webhooks

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// metrics are the sender's own series, plus the webhooks' state read from
// the database at each scrape, so every replica reports the same truth.
type metrics struct {
	attempts *prometheus.CounterVec
	seconds  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, db *store.Store) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbook_webhook_attempts_total", Help: "Webhook delivery attempts by this process, by result (delivered, failed, gone).",
		}, []string{"result"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "callbook_webhook_attempt_seconds", Help: "Time from sending a webhook to its receiver's answer.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}),
	}
	if reg == nil {
		return m, nil
	}
	return m, errors.Join(reg.Register(m.attempts), reg.Register(m.seconds), reg.Register(&stateCollector{store: db}))
}

// stateCollector reports each webhook's state and deliveries by status.
type stateCollector struct{ store *store.Store }

var (
	webhookStateDesc = prometheus.NewDesc("callbook_webhook_state",
		"1 for the state each webhook is in (ok, failing, disabled); failing means its last attempts failed.",
		[]string{"webhook_id", "state"}, nil)
	webhookFailuresDesc = prometheus.NewDesc("callbook_webhook_consecutive_failures",
		"Failed attempts since each webhook's last success.", []string{"webhook_id"}, nil)
	webhookDeliveriesDesc = prometheus.NewDesc("callbook_webhook_deliveries",
		"Webhook deliveries by webhook and status.", []string{"webhook_id", "status"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- webhookStateDesc
	ch <- webhookFailuresDesc
	ch <- webhookDeliveriesDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	hooks, err := c.store.ListWebhooks(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(webhookStateDesc, err)
		return
	}
	counts, err := c.store.WebhookDeliveryCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(webhookDeliveriesDesc, err)
		return
	}
	statuses := []string{models.DeliveryPending, models.DeliverySending, models.DeliveryDelivered, models.DeliveryFailed, models.DeliveryCanceled}
	for _, h := range hooks {
		id := strconv.FormatUint(uint64(h.ID), 10)
		for _, st := range []string{models.WebhookOK, models.WebhookFailing, models.WebhookDisabled} {
			v := 0.0
			if h.State() == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(webhookStateDesc, prometheus.GaugeValue, v, id, st)
		}
		ch <- prometheus.MustNewConstMetric(webhookFailuresDesc, prometheus.GaugeValue, float64(h.Failures), id)
		for _, st := range statuses {
			ch <- prometheus.MustNewConstMetric(webhookDeliveriesDesc, prometheus.GaugeValue, float64(counts[h.ID][st]), id, st)
		}
	}
}
