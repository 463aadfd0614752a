package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// SetFollowups gives the store the follow-up emails each role declares,
// by role slug. Call it once while wiring the service, before it serves.
func (s *Store) SetFollowups(byRole map[string][]models.Followup) {
	s.followups.Store(&byRole)
}

// FollowupsKey is where SetFollowups expects the follow-ups of role's
// version in lang: "backend-engineer.de".
func FollowupsKey(role, lang string) string { return role + "." + lang }

// roleFollowups returns the follow-ups role declares for trigger, in lang
// when the role's version in lang declares its own, else the default
// file's.
func (s *Store) roleFollowups(role, lang, trigger string) []models.Followup {
	p := s.followups.Load()
	if p == nil {
		return nil
	}
	all, ok := (*p)[FollowupsKey(role, lang)]
	if !ok {
		all = (*p)[role]
	}
	var out []models.Followup
	for _, f := range all {
		if f.When == trigger {
			out = append(out, f)
		}
	}
	return out
}

// queueFollowups writes, inside tx, the follow-up emails the lead's role
// declares for trigger, each due its delay after now. b is the call it
// follows (nil when the visitor was turned away); role is the role page.
// A lead that unsubscribed, was erased or has no address gets none, and
// one already waiting is not written twice.
func (s *Store) queueFollowups(tx *gorm.DB, trigger string, l *models.Lead, b *models.Booking, host *models.User, role string) error {
	lang := l.Language
	if b != nil && b.Language != "" {
		lang = b.Language // the language of the call it follows
	}
	fs := s.roleFollowups(role, lang, trigger)
	if len(fs) == 0 || l.UnsubscribedAt != nil || l.ErasedAt != nil || strings.TrimSpace(l.Email) == "" {
		return nil
	}
	token, err := s.unsubscribeToken(tx, l)
	if err != nil {
		return err
	}
	now := s.txNow(tx)
	base := models.MailData{LeadID: l.ID, Name: l.Name, Email: l.Email, Phone: l.Phone, CurrentTitle: l.CurrentTitle,
		TargetTitle: l.TargetTitle, RoleSlug: role, UnsubscribeToken: token}
	vals := map[string]string{"name": l.Name, "first_name": models.FirstName(l.Name), "target_title": l.TargetTitle,
		"recommended_title": l.RecommendedTitle, "host_name": ""}
	status := ""
	if b != nil {
		base.BookingID, base.Timezone, base.TargetTitle, status = b.ID, b.Timezone, b.TargetTitle, b.Status
		base.CallID = b.CallID
		vals["target_title"] = b.TargetTitle
	}
	if host != nil {
		base.HostName, vals["host_name"] = host.Name, host.Name
	}
	if vals["recommended_title"] == "" {
		vals["recommended_title"] = vals["target_title"]
	}
	rows := make([]models.OutboxMessage, 0, len(fs))
	for _, f := range fs {
		vals["role_title"] = f.RoleTitle
		d := base
		d.Kind = models.MailFollowupPrefix + f.ID
		// The same trigger twice (a visitor turned away twice) sends once.
		var waiting int64
		if err := tx.Model(&models.OutboxMessage{}).Where("lead_id = ? AND kind = ? AND status = ?", l.ID, d.Kind, models.OutboxPending).
			Count(&waiting).Error; err != nil {
			return err
		}
		if waiting > 0 {
			continue
		}
		d.FollowupSubject, d.FollowupBody = models.FillPlaceholders(f.Subject, vals), models.FillPlaceholders(f.Body, vals)
		if strings.Contains(f.Subject+f.Body, "{rebook_url}") {
			if d.RebookToken, err = s.rebookLink(tx, &d, now.Add(f.After)); err != nil {
				return err
			}
		}
		row := s.outboxRow(now, l.Email, l.Name, d)
		row.NextAttemptAt, row.TriggerStatus = now.Add(f.After), status
		rows = append(rows, row)
		if err := s.addEvent(tx, l.ID, base.BookingID, models.EventFollowupScheduled, models.ActorSystem, map[string]any{
			"kind": d.Kind, "trigger": trigger, "due": row.NextAttemptAt.UTC()}); err != nil {
			return err
		}
	}
	return s.insertOutbox(tx, rows...)
}

// rebookLink makes, inside tx, the one-use private link an email's
// {rebook_url} leads to: d's kind of call for d's lead, working for
// models.DefaultLinkLife from due, when the email goes out. It is made
// with the email, in the transaction that writes it, so a retried or
// previewed email never makes another.
func (s *Store) rebookLink(tx *gorm.DB, d *models.MailData, due time.Time) (string, error) {
	leadID := d.LeadID
	_, token, err := s.createBookingLink(tx, models.LinkSpec{RoleSlug: d.RoleSlug, CallID: d.CallID, LeadID: &leadID,
		Uses: 1, ExpiresAt: due.Add(models.DefaultLinkLife)})
	return token, err
}

// unsubscribeToken returns the lead's unsubscribe key, making one the
// first time.
func (s *Store) unsubscribeToken(tx *gorm.DB, l *models.Lead) (string, error) {
	if l.UnsubscribeToken != nil && *l.UnsubscribeToken != "" {
		return *l.UnsubscribeToken, nil
	}
	var cur models.Lead
	if err := tx.Select("id, unsubscribe_token").Where("id = ?", l.ID).Take(&cur).Error; err != nil {
		return "", err
	}
	if cur.UnsubscribeToken != nil && *cur.UnsubscribeToken != "" {
		l.UnsubscribeToken = cur.UnsubscribeToken
		return *cur.UnsubscribeToken, nil
	}
	token := RandomToken(24)
	if err := tx.Model(&models.Lead{}).Where("id = ?", l.ID).Update("unsubscribe_token", token).Error; err != nil {
		return "", err
	}
	l.UnsubscribeToken = &token
	return token, nil
}

// skipFollowups skips, inside tx, the lead's follow-up emails still
// waiting (of one booking only when bookingID is set), recording why, with
// followup.skipped on the timeline. It takes the rows' locks, so a sender
// that claims one first keeps it and one that comes after finds it skipped.
func (s *Store) skipFollowups(tx *gorm.DB, leadID, bookingID uint, reason string) error {
	q := tx.Model(&models.OutboxMessage{}).Where("lead_id = ? AND status = ? AND kind LIKE ?",
		leadID, models.OutboxPending, models.MailFollowupPrefix+"%")
	if bookingID != 0 {
		q = q.Where("booking_id = ?", bookingID)
	}
	var ids []uint
	if err := s.lockRows(q).Order("id").Pluck("id", &ids).Error; err != nil {
		return err
	}
	return s.markSkipped(tx, ids, reason, models.OutboxPending)
}

// markSkipped moves the rows ids, still in status from, to skipped for
// reason, and writes followup.skipped for each.
func (s *Store) markSkipped(tx *gorm.DB, ids []uint, reason string, from ...string) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.txNow(tx)
	var rows []models.OutboxMessage
	if err := tx.Select("id, kind, lead_id, booking_id").Where("id IN ? AND status IN ?", ids, from).Find(&rows).Error; err != nil {
		return err
	}
	if err := tx.Model(&models.OutboxMessage{}).Where("id IN ? AND status IN ?", ids, from).Updates(map[string]any{
		"status": models.OutboxSkipped, "skip_reason": reason, "claimed_until": nil, "updated_at": now}).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if r.LeadID == nil {
			continue
		}
		var booking uint
		if r.BookingID != nil {
			booking = *r.BookingID
		}
		if err := s.addEvent(tx, *r.LeadID, booking, models.EventFollowupSkipped, models.ActorSystem,
			map[string]any{"kind": r.Kind, "reason": reason}); err != nil {
			return err
		}
	}
	return nil
}

// followupSkipRules are the checks a follow-up passes in the transaction
// that claims it for sending, each a condition on the outbox row: the lead
// was erased or unsubscribed, booked again after the follow-up was
// written, or its call's status moved on.
var followupSkipRules = []struct {
	reason, cond string
}{
	{models.SkipErased, "EXISTS (SELECT 1 FROM leads l WHERE l.id = outbox.lead_id AND l.erased_at IS NOT NULL)"},
	{models.SkipUnsubscribed, "EXISTS (SELECT 1 FROM leads l WHERE l.id = outbox.lead_id AND l.unsubscribed_at IS NOT NULL)"},
	{models.SkipRebooked, "EXISTS (SELECT 1 FROM bookings b WHERE b.lead_id = outbox.lead_id AND b.created_at > outbox.created_at " +
		"AND (outbox.booking_id IS NULL OR b.id <> outbox.booking_id))"},
	{models.SkipOutcomeChanged, "outbox.trigger_status <> '' AND EXISTS (SELECT 1 FROM bookings b WHERE b.id = outbox.booking_id " +
		"AND b.status <> outbox.trigger_status)"},
}

// retireFollowups skips, inside the claiming transaction, every due
// follow-up that must no longer go (followupSkipRules), before the claim
// reads the due rows. Rows another transaction holds are left to it (SKIP
// LOCKED), and that transaction decides them.
func (s *Store) retireFollowups(tx *gorm.DB, now time.Time) error {
	for _, r := range followupSkipRules {
		var ids []uint
		q := tx.Model(&models.OutboxMessage{}).
			Where("outbox.kind LIKE ? AND outbox.lead_id IS NOT NULL", models.MailFollowupPrefix+"%").
			Where("((outbox.status = ? AND outbox.next_attempt_at <= ?) OR (outbox.status = ? AND outbox.claimed_until < ?))",
				models.OutboxPending, now, models.OutboxSending, now).
			Where(r.cond).Order("outbox.id").Limit(1000)
		if err := s.skipLocked(q).Pluck("outbox.id", &ids).Error; err != nil {
			return err
		}
		if err := s.markSkipped(tx, ids, r.reason, models.OutboxPending, models.OutboxSending); err != nil {
			return err
		}
	}
	return nil
}

// Unsubscribe stops follow-up emails to the lead whose unsubscribe key is
// token, at once: it records unsubscribed_at (the first time), skips the
// follow-ups still waiting, and writes lead.unsubscribed with its webhook,
// all in one transaction. Emails about a booked call still go. Asking
// again changes nothing. ErrNotFound for an unknown key or an erased lead.
func (s *Store) Unsubscribe(ctx context.Context, token string) (*models.Lead, error) {
	if token == "" || len(token) > 64 {
		return nil, models.ErrNotFound
	}
	var out models.Lead
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := s.lockRows(tx.Where("unsubscribe_token = ? AND erased_at IS NULL", token)).Take(&out).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNotFound
		}
		if err != nil || out.UnsubscribedAt != nil {
			return err
		}
		now := s.txNow(tx)
		out.UnsubscribedAt = &now
		if err := tx.Model(&models.Lead{}).Where("id = ?", out.ID).Updates(map[string]any{"unsubscribed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.skipFollowups(tx, out.ID, 0, models.SkipUnsubscribed); err != nil {
			return err
		}
		if err := s.addEvent(tx, out.ID, 0, models.EventLeadUnsubscribed, models.ActorVisitor, map[string]any{}); err != nil {
			return err
		}
		return s.queueWebhooks(tx, out.ID, 0, models.WebhookLeadUnsubscribed)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// LeadByUnsubscribeToken returns the live lead whose unsubscribe key is
// token, or ErrNotFound; it changes nothing.
func (s *Store) LeadByUnsubscribeToken(ctx context.Context, token string) (*models.Lead, error) {
	if token == "" || len(token) > 64 {
		return nil, models.ErrNotFound
	}
	var l models.Lead
	err := s.read.WithContext(ctx).Where("unsubscribe_token = ? AND erased_at IS NULL", token).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &l, err
}

// followOutcome, inside SetOutcome's transaction, skips the follow-ups
// written for the call's previous outcome and writes those of the new one.
func (s *Store) followOutcome(tx *gorm.DB, b *models.Booking, outcome string) error {
	if err := s.skipFollowups(tx, b.LeadID, b.ID, models.SkipOutcomeChanged); err != nil {
		return err
	}
	lead, host, err := bookingParties(tx, b)
	if err != nil {
		return err
	}
	moved := *b
	moved.Status = outcome
	return s.queueFollowups(tx, outcome, lead, &moved, host, b.RoleSlug)
}
