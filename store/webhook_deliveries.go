package store

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// webhooksQueued is set, through the transaction's context, by a
// transaction that queued deliveries; Store.tx signals the sender after
// such a transaction commits.
type webhooksQueued struct{ atomic.Bool }

type webhooksQueuedKey struct{}

func markWebhooksQueued(tx *gorm.DB) {
	if tx.Statement.Context == nil {
		return
	}
	if q, ok := tx.Statement.Context.Value(webhooksQueuedKey{}).(*webhooksQueued); ok {
		q.Store(true)
	}
}

// WebhookSignal receives a value after a transaction that queued webhook
// deliveries commits, so a sender can deliver at once.
func (s *Store) WebhookSignal() <-chan struct{} { return s.webhookSignal }

func (s *Store) signalWebhooks() {
	select {
	case s.webhookSignal <- struct{}{}:
	default:
	}
}

// ClaimWebhookDeliveries hands the caller up to limit deliveries that are
// due, each now "sending", counted as one more attempt, and held until
// now+lease (SKIP LOCKED on PostgreSQL, the single writer on SQLite). A
// delivery is due when its next attempt has come (or a crashed sender's
// lease ran out), its webhook is enabled and not paused, and no earlier
// delivery of the same lead to the same webhook is still pending or being
// sent: a lead's changes reach each receiver in order. Webhooks in skip
// (those the caller is already sending to) are left out. Rows come oldest
// first.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration, skip []uint) ([]models.WebhookDelivery, error) {
	ctx, now := s.withTxNow(ctx)
	if limit <= 0 {
		return nil, nil
	}
	until := now.Add(lease).Round(time.Microsecond)
	var rows []models.WebhookDelivery
	still := func(q *gorm.DB) *gorm.DB {
		return q.Where("((status = ? AND next_attempt_at <= ?) OR (status = ? AND claimed_until < ?))",
			models.DeliveryPending, now, models.DeliverySending, now)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		due := func(q *gorm.DB) *gorm.DB {
			q = still(q).
				Where("webhook_id IN (SELECT id FROM webhooks WHERE disabled_at IS NULL AND (paused_until IS NULL OR paused_until <= ?))", now).
				Where(`NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = webhook_deliveries.webhook_id
					AND e.lead_id = webhook_deliveries.lead_id AND e.id < webhook_deliveries.id AND e.status IN ?)`,
					[]string{models.DeliveryPending, models.DeliverySending})
			if len(skip) > 0 {
				q = q.Where("webhook_id NOT IN ?", skip)
			}
			return q
		}
		var err error
		rows, err = claimLeased(s, tx, due, still, "id", limit, now, until,
			func(d *models.WebhookDelivery) uint { return d.ID },
			func(d *models.WebhookDelivery) {
				d.Status, d.ClaimedUntil, d.UpdatedAt = models.DeliverySending, timePtr(until), now
				d.Attempts++
			})
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// RecordWebhookAttempt writes one attempt's outcome on its delivery and on
// its webhook in one transaction. A success clears the webhook's failures
// and, when it was failing, makes its whole backlog due at once.
// ErrDeliveryClaimLost when the caller no longer holds the delivery.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a models.DeliveryAttempt) error {
	ctx, now := s.withTxNow(ctx)
	d := a.Delivery
	upd := map[string]any{
		"status": a.Status, "claimed_until": nil, "last_status_code": a.StatusCode,
		"last_duration_ms": a.Duration.Milliseconds(), "last_response": a.Response, "last_error": a.Error,
		"last_attempt_at": now, "updated_at": now,
	}
	switch a.Status {
	case models.DeliveryDelivered:
		upd["delivered_at"] = now
	case models.DeliveryPending:
		upd["next_attempt_at"] = a.NextAttemptAt.UTC()
	case models.DeliveryFailed:
	default:
		return errors.New("webhooks: an attempt must end delivered, failed or pending, not " + a.Status)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.WebhookDelivery{}).Where("id = ? AND status = ? AND attempts = ?", d.ID, models.DeliverySending, d.Attempts).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrDeliveryClaimLost
		}
		return s.recordWebhookHealth(tx, d.WebhookID, a, now)
	})
	if err == nil && a.Status == models.DeliveryDelivered {
		s.signalWebhooks() // the lead's next delivery, or a flushed backlog
	}
	return err
}

// recordWebhookHealth updates the webhook after an attempt: failures,
// pause and last error, or their clearing. A success on a healthy webhook
// writes nothing.
func (s *Store) recordWebhookHealth(tx *gorm.DB, id uint, a models.DeliveryAttempt, now time.Time) error {
	q := tx.Model(&models.Webhook{}).Where("id = ?", id)
	switch {
	case a.Disable:
		return q.Updates(map[string]any{"disabled_at": now, "disabled_reason": a.Error, "last_error": a.Error,
			"failures": gorm.Expr("failures + 1"), "failing_since": gorm.Expr("COALESCE(failing_since, ?)", now)}).Error
	case a.Status == models.DeliveryDelivered:
		// A receiver that answers again is healthy: its old error goes too,
		// so the webhook never shows "ok" beside a failure that is over.
		res := q.Where("failures > 0").Updates(map[string]any{"failures": 0, "failing_since": nil, "paused_until": nil, "last_error": ""})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return flushWebhook(tx, id, now)
	}
	upd := map[string]any{"failures": gorm.Expr("failures + 1"), "last_error": a.Error,
		"failing_since": gorm.Expr("COALESCE(failing_since, ?)", now)}
	if a.PauseFor > 0 {
		upd["paused_until"] = now.Add(a.PauseFor)
	}
	return q.Updates(upd).Error
}

// flushWebhook makes every pending delivery of a webhook due now: the
// backlog of a receiver that came back goes out at once.
func flushWebhook(tx *gorm.DB, id uint, now time.Time) error {
	return tx.Model(&models.WebhookDelivery{}).Where("webhook_id = ? AND status = ? AND next_attempt_at > ?", id, models.DeliveryPending, now).
		Update("next_attempt_at", now).Error
}

// ReleaseWebhookDeliveries gives claimed deliveries back, pending and due
// at next, without counting the attempt they were claimed for: they were
// never sent (the webhook was paused meanwhile, or the sender stopped).
// Rows the caller no longer holds are left alone.
func (s *Store) ReleaseWebhookDeliveries(ctx context.Context, rows []models.WebhookDelivery, next time.Time) error {
	ctx, now := s.withTxNow(ctx)
	if len(rows) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		for _, d := range rows {
			err := tx.Model(&models.WebhookDelivery{}).Where("id = ? AND status = ? AND attempts = ?", d.ID, models.DeliverySending, d.Attempts).
				Updates(map[string]any{"status": models.DeliveryPending, "next_attempt_at": next.UTC(), "claimed_until": nil,
					"attempts": gorm.Expr("attempts - 1"), "updated_at": now}).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// RetryWebhookDelivery sends a delivery of webhook again as soon as
// possible (admin action): a failed or delivered one goes back to pending
// with its attempts reset, a pending one becomes due now, and the webhook's
// pause ends. The body and webhook-id stay those of the change.
// ErrNotFound when the webhook has no such delivery; a ValidationError
// while it is being sent or after it was withdrawn.
func (s *Store) RetryWebhookDelivery(ctx context.Context, webhookID, id uint) error {
	ctx, now := s.withTxNow(ctx)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var d models.WebhookDelivery
		if err := s.lockRows(tx.Where("id = ? AND webhook_id = ?", id, webhookID)).Take(&d).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		upd := map[string]any{"status": models.DeliveryPending, "next_attempt_at": now, "claimed_until": nil, "updated_at": now}
		switch d.Status {
		case models.DeliverySending, models.DeliveryCanceled:
			return models.Invalid("status", "this delivery is "+d.Status+" and cannot be retried now")
		case models.DeliveryFailed, models.DeliveryDelivered:
			upd["attempts"] = 0
		}
		if err := tx.Model(&models.WebhookDelivery{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		if err := tx.Model(&models.Webhook{}).Where("id = ?", webhookID).Update("paused_until", nil).Error; err != nil {
			return err
		}
		return s.audit(tx, models.AuditWebhookRetried, models.AuditTarget{Type: models.AuditTargetWebhook, ID: webhookID},
			map[string]any{"delivery_id": id, "lead_id": d.LeadID})
	})
	if err == nil {
		s.signalWebhooks()
	}
	return err
}

// ListWebhookDeliveries returns a webhook's latest deliveries, newest
// first, at most limit (50 when <= 0, at most 500). ErrNotFound when there
// is no such webhook.
func (s *Store) ListWebhookDeliveries(ctx context.Context, webhookID uint, limit int) ([]models.WebhookDelivery, error) {
	if _, err := s.WebhookByID(ctx, webhookID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultOutboxLimit
	}
	rows := []models.WebhookDelivery{}
	err := s.read.WithContext(ctx).Where("webhook_id = ?", webhookID).Order("id DESC").Limit(min(limit, maxOutboxLimit)).Find(&rows).Error
	return rows, err
}

// WebhookDeliveryCounts returns how many deliveries each webhook has in
// each status: counts[webhookID][status].
func (s *Store) WebhookDeliveryCounts(ctx context.Context) (map[uint]map[string]int64, error) {
	var got []struct {
		WebhookID uint
		Status    string
		N         int64
	}
	err := s.read.WithContext(ctx).Model(&models.WebhookDelivery{}).Select("webhook_id, status, COUNT(*) AS n").
		Group("webhook_id, status").Scan(&got).Error
	if err != nil {
		return nil, err
	}
	out := map[uint]map[string]int64{}
	for _, g := range got {
		if out[g.WebhookID] == nil {
			out[g.WebhookID] = map[string]int64{}
		}
		out[g.WebhookID][g.Status] = g.N
	}
	return out, nil
}

// WebhookDeliveryByID returns one delivery of a webhook, or ErrNotFound.
func (s *Store) WebhookDeliveryByID(ctx context.Context, webhookID, id uint) (*models.WebhookDelivery, error) {
	var d models.WebhookDelivery
	err := s.read.WithContext(ctx).Where("id = ? AND webhook_id = ?", id, webhookID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &d, err
}
