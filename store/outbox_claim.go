package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// Outbox list bounds.
const (
	defaultOutboxLimit = 50
	maxOutboxLimit     = 500
)

// outboxStatuses lists every outbox status, for filters and counts.
func outboxStatuses() []string {
	return []string{models.OutboxPending, models.OutboxSending, models.OutboxSent, models.OutboxFailed, models.OutboxCanceled, models.OutboxSkipped}
}

// ClaimOutbox hands the caller up to limit emails that are due: pending rows
// whose next attempt has come, and rows left "sending" by a sender whose
// lease ran out (it crashed). Each returned row is now "sending", counted as
// one more attempt, and held until now+lease; no other caller can claim it
// until then, in this process or another (SKIP LOCKED on PostgreSQL, the
// single writer on SQLite). Rows come oldest due first. Follow-up emails
// that must no longer go (the lead booked again, unsubscribed, …) are
// skipped in the same transaction first, so a follow-up is claimed only
// while nothing has stopped it.
func (s *Store) ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]models.OutboxMessage, error) {
	ctx, now := s.withTxNow(ctx)
	if limit <= 0 {
		return nil, nil
	}
	until := now.Add(lease).Round(time.Microsecond)
	var rows []models.OutboxMessage
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := withdrawLateReminders(tx, now); err != nil {
			return err
		}
		if err := s.retireFollowups(tx, now); err != nil {
			return err
		}
		due := func(q *gorm.DB) *gorm.DB {
			return q.Where("((status = ? AND next_attempt_at <= ?) OR (status = ? AND claimed_until < ?))",
				models.OutboxPending, now, models.OutboxSending, now)
		}
		var err error
		rows, err = claimLeased(s, tx, due, due, "next_attempt_at, id", limit, now, until,
			func(m *models.OutboxMessage) uint { return m.ID },
			func(m *models.OutboxMessage) {
				m.Status, m.ClaimedUntil, m.UpdatedAt = models.OutboxSending, timePtr(until), now
				m.Attempts++
			})
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// claimed restricts q to row m as its claimer holds it: still "sending" and
// still at the attempt it was claimed for, so a stale sender whose row was
// reclaimed cannot overwrite the newer sender's outcome.
func claimed(q *gorm.DB, m models.OutboxMessage) *gorm.DB {
	return q.Model(&models.OutboxMessage{}).Where("id = ? AND status = ? AND attempts = ?", m.ID, models.OutboxSending, m.Attempts)
}

// RecordOutbox writes several outcomes in one transaction (a sender
// group-commits them while it keeps sending), with email.sent or
// email.failed on each row's lead timeline. An outcome for a row its sender
// no longer holds is skipped and its id returned in lost; the others are
// written.
func (s *Store) RecordOutbox(ctx context.Context, outcomes []models.OutboxOutcome) (lost []uint, err error) {
	if len(outcomes) == 0 {
		return nil, nil
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		lost = lost[:0]
		for _, o := range outcomes {
			ok, err := s.recordOutcome(tx, o)
			if err != nil {
				return err
			}
			if !ok {
				lost = append(lost, o.Message.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lost, nil
}

// recordOutcome applies one outcome to its claimed row; false when the
// claim was lost.
func (s *Store) recordOutcome(tx *gorm.DB, o models.OutboxOutcome) (bool, error) {
	m, now := o.Message, s.txNow(tx)
	upd := map[string]any{"status": o.Status, "claimed_until": nil, "last_error": o.Error, "updated_at": now}
	typ := ""
	switch o.Status {
	case models.OutboxSent:
		upd["sent_at"], typ = now, "email.sent"
	case models.OutboxFailed:
		typ = "email.failed"
	case models.OutboxPending:
		upd["next_attempt_at"] = o.NextAttemptAt.UTC()
	default:
		return false, errors.New("outbox: an outcome must be sent, failed or pending, not " + o.Status)
	}
	res := claimed(tx, m).Updates(upd)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	if typ == "" || m.LeadID == nil {
		return true, nil
	}
	data := map[string]any{"kind": m.Kind, "to": m.ToAddr, "message_id": m.MessageID, "attempts": m.Attempts}
	if o.Status == models.OutboxFailed {
		data["error"] = o.Error
	}
	var booking uint
	if m.BookingID != nil {
		booking = *m.BookingID
	}
	return true, s.addEvent(tx, *m.LeadID, booking, typ, models.ActorSystem, data)
}

// recordOne writes one outcome; ErrOutboxClaimLost when the caller no
// longer holds the row.
func (s *Store) recordOne(ctx context.Context, o models.OutboxOutcome) error {
	lost, err := s.RecordOutbox(ctx, []models.OutboxOutcome{o})
	if err == nil && len(lost) > 0 {
		return models.ErrOutboxClaimLost
	}
	return err
}

// MarkOutboxSent records that the SMTP server accepted the claimed row m,
// and writes email.sent on the lead's timeline in the same transaction.
// ErrOutboxClaimLost when the caller no longer holds the row.
func (s *Store) MarkOutboxSent(ctx context.Context, m models.OutboxMessage) error {
	return s.recordOne(ctx, models.OutboxOutcome{Message: m, Status: models.OutboxSent})
}

// MarkOutboxFailed records that the claimed row m will never be delivered,
// keeping errText (the server's answer) as its last error, and writes
// email.failed on the lead's timeline in the same transaction.
func (s *Store) MarkOutboxFailed(ctx context.Context, m models.OutboxMessage, errText string) error {
	return s.recordOne(ctx, models.OutboxOutcome{Message: m, Status: models.OutboxFailed, Error: errText})
}

// MarkOutboxRetry puts the claimed row m back to pending, due again at next,
// keeping errText; the attempt it was claimed for stays counted.
func (s *Store) MarkOutboxRetry(ctx context.Context, m models.OutboxMessage, errText string, next time.Time) error {
	return s.recordOne(ctx, models.OutboxOutcome{Message: m, Status: models.OutboxPending, Error: errText, NextAttemptAt: next})
}

// ReleaseOutbox gives claimed rows back, pending and due when they were,
// without counting the attempt they were claimed for: the email never
// reached an SMTP server (it was down, or the sender stopped first), which
// says nothing about the email, so its next attempt does not move. errText,
// when not empty, replaces the last error. Rows the caller no longer holds
// are left alone.
func (s *Store) ReleaseOutbox(ctx context.Context, rows []models.OutboxMessage, errText string) error {
	ctx, now := s.withTxNow(ctx)
	if len(rows) == 0 {
		return nil
	}
	upd := map[string]any{
		"status": models.OutboxPending, "claimed_until": nil, "attempts": gorm.Expr("attempts - 1"), "updated_at": now,
	}
	if errText != "" {
		upd["last_error"] = errText
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		for _, m := range rows {
			if err := claimed(tx, m).Updates(upd).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// RenewOutbox extends the caller's claim on rows it still holds to
// now+lease and returns that time. A live sender renews while it works, so
// its lease can be short: a sender that dies stops renewing, and its rows
// go to another sender soon after. Rows already recorded, or taken over by
// another sender, are left alone.
func (s *Store) RenewOutbox(ctx context.Context, rows []models.OutboxMessage, lease time.Duration) (time.Time, error) {
	ctx, now := s.withTxNow(ctx)
	until := now.Add(lease).Round(time.Microsecond)
	if len(rows) == 0 {
		return until, nil
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		for _, m := range rows {
			if err := claimed(tx, m).Update("claimed_until", until).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return until, err
}

// RetryOutbox makes a failed email pending again, due now with its attempts
// reset, and wakes the sender (admin action). ErrNotFound when there is no
// such email; a ValidationError when it has not failed.
func (s *Store) RetryOutbox(ctx context.Context, id uint) error {
	ctx, now := s.withTxNow(ctx)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var m models.OutboxMessage
		if err := s.lockRows(tx.Where("id = ?", id)).Take(&m).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		if m.Status != models.OutboxFailed {
			return models.Invalid("status", "only a failed email can be retried; this one is "+m.Status)
		}
		if err := tx.Model(&models.OutboxMessage{}).Where("id = ? AND status = ?", id, models.OutboxFailed).Updates(map[string]any{
			"status": models.OutboxPending, "attempts": 0, "next_attempt_at": now, "claimed_until": nil, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		d := map[string]any{"kind": m.Kind}
		if m.LeadID != nil {
			d["lead_id"] = *m.LeadID
		}
		return s.audit(tx, models.AuditMailRetried, models.AuditTarget{Type: models.AuditTargetEmail, ID: m.ID}, d)
	})
	if err != nil {
		return err
	}
	s.signalOutbox()
	return nil
}

// ListOutbox returns up to limit emails, newest first (in the order they
// were queued, which is id order); status "" means all.
// limit <= 0 means 50, and it is capped at 500. An unknown status is a
// ValidationError.
func (s *Store) ListOutbox(ctx context.Context, status string, limit int) ([]models.OutboxMessage, error) {
	if status != "" && !slices.Contains(outboxStatuses(), status) {
		return nil, models.Invalid("status", "must be pending, sending, sent, failed, canceled or skipped")
	}
	if limit <= 0 {
		limit = defaultOutboxLimit
	}
	limit = min(limit, maxOutboxLimit)
	q := s.read.WithContext(ctx).Order("id DESC").Limit(limit)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	rows := []models.OutboxMessage{}
	return rows, q.Find(&rows).Error
}

// OutboxByID returns one email, or ErrNotFound.
func (s *Store) OutboxByID(ctx context.Context, id uint) (*models.OutboxMessage, error) {
	var m models.OutboxMessage
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// OutboxCounts returns how many emails are in each status; statuses with
// none are present with 0.
func (s *Store) OutboxCounts(ctx context.Context) (map[string]int64, error) {
	var got []struct {
		Status string
		N      int64
	}
	err := s.read.WithContext(ctx).Model(&models.OutboxMessage{}).Select("status, COUNT(*) AS n").Group("status").Scan(&got).Error
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, st := range outboxStatuses() {
		counts[st] = 0
	}
	for _, g := range got {
		counts[g.Status] = g.N
	}
	return counts, nil
}

// withdrawLateReminders cancels unsent reminder emails whose call has begun:
// mail delayed by an outage past the start would only confuse (docs/API.md, Emails:
// never after the call has begun).
func withdrawLateReminders(tx *gorm.DB, now time.Time) error {
	return tx.Model(&models.OutboxMessage{}).
		Where("status IN ? AND kind LIKE ? AND booking_id IN (SELECT id FROM bookings WHERE start_at <= ?)",
			[]string{models.OutboxPending, models.OutboxSending}, models.MailReminderPrefix+"%", now).
		Where("status = ? OR claimed_until < ?", models.OutboxPending, now).
		Updates(map[string]any{"status": models.OutboxCanceled, "last_error": "not sent: the call had begun", "updated_at": now}).Error
}
