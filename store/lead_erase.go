package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// EraseLead erases a lead's personal data on behalf of actor (an admin), in
// one transaction: name, email, phone, current title, notes, booking
// messages and cancel reasons, the personal parts of its emails and their
// events. Its calls still to come are canceled (time freed, reminders
// canceled, unsent emails withdrawn, the host told); the visitor is not
// emailed, since their address is gone. What statistics need stays: the
// lead row with its status, owner, titles, role page, UTM and referrer
// site, its bookings and its timeline. The email key becomes
// "erased:<id>", so the address can book again as a new lead.
// The lead.erased audit entry is written in the same transaction, and the
// person's data is scrubbed from the details of every audit entry about
// the lead. ErrNotFound when there is no such lead or it was erased already.
func (s *Store) EraseLead(ctx context.Context, id uint, actor *models.User) error {
	return s.eraseLead(withUserActor(ctx, actor), id, actor, nil)
}

// eraseLead is EraseLead with, when keep is not nil, a last check inside
// the transaction on the locked lead: when keep says so the lead is left
// as it is and eraseLead returns errLeadKept.
func (s *Store) eraseLead(ctx context.Context, id uint, actor *models.User, keep func(tx *gorm.DB, l *models.Lead) (bool, error)) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.txNow(tx)
		var l models.Lead
		if err := s.lockRows(tx.Where("id = ? AND erased_at IS NULL", id)).Take(&l).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		if keep != nil {
			if kept, err := keep(tx, &l); err != nil || kept {
				return cmp.Or(err, errLeadKept)
			}
		}
		steps := []func(*gorm.DB, *models.Lead, time.Time) error{
			s.skipErasedFollowups, scrubOutbox, s.scrubLead, eraseNotesAndMessages, scrubEvents, scrubPageURL, eraseAnswers, scrubAudit,
		}
		err := s.trackLead(tx, l.ID, func() error {
			for _, step := range steps {
				if err := step(tx, &l, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		n, err := s.cancelFutureCalls(tx, &l, actor, now)
		if err != nil {
			return err
		}
		if err := s.addEvent(tx, l.ID, 0, "lead.erased", actorName(actor), map[string]any{"calls_canceled": n}); err != nil {
			return err
		}
		details := map[string]any{"calls_canceled": n}
		if p, ok := ctx.Value(erasePolicyKey{}).(string); ok {
			details["policy"] = p
		}
		if err := s.audit(tx, models.AuditLeadErased, models.AuditTarget{Type: models.AuditTargetLead, ID: l.ID}, details); err != nil {
			return err
		}
		if n > 0 {
			if err := s.bumpAvailability(tx); err != nil {
				return err
			}
		}
		return s.eraseWebhookData(tx, l.ID)
	})
	if err != nil {
		return err
	}
	s.signalOutbox()
	return nil
}

// scrubLead blanks the person's data in the lead row, keeping what the
// statistics need.
func (s *Store) scrubLead(tx *gorm.DB, l *models.Lead, now time.Time) error {
	upd := map[string]any{
		"email_key": "erased:" + strconv.FormatUint(uint64(l.ID), 10), "email": "", "name": models.ErasedName,
		"phone": "", "current_title": "", "referrer": referrerSite(l.Referrer),
		"first_referrer": referrerSite(l.FirstReferrer), "erased_at": now, "updated_at": now, "unsubscribe_token": nil,
	}
	if err := tx.Model(&models.Lead{}).Where("id = ?", l.ID).Updates(upd).Error; err != nil {
		return err
	}
	l.Email, l.Name, l.Phone, l.CurrentTitle = "", models.ErasedName, "", ""
	return nil
}

func eraseNotesAndMessages(tx *gorm.DB, l *models.Lead, now time.Time) error {
	if err := tx.Where("lead_id = ?", l.ID).Delete(&models.Note{}).Error; err != nil {
		return err
	}
	return tx.Model(&models.Booking{}).Where("lead_id = ?", l.ID).
		Updates(map[string]any{"message": "", "cancel_reason": "", "updated_at": now}).Error
}

// referrerSite keeps only the scheme and host of a referrer.
func referrerSite(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return ""
}

// scrubEvents empties the data of the lead's events that can hold what the
// person wrote or their address: email events, cancel reasons, and the
// details a returning visitor changed.
func scrubEvents(tx *gorm.DB, l *models.Lead, _ time.Time) error {
	return tx.Model(&models.Event{}).
		Where("lead_id = ? AND (type LIKE ? OR type LIKE ? OR type IN ?)", l.ID, "email.%", "reminder.%",
			[]string{"booking.canceled", "lead.details_changed"}).
		Update("data", "{}").Error
}

// skipErasedFollowups skips the lead's follow-up emails still waiting,
// visibly, before scrubOutbox withdraws the rest of its unsent mail.
func (s *Store) skipErasedFollowups(tx *gorm.DB, l *models.Lead, _ time.Time) error {
	return s.skipFollowups(tx, l.ID, 0, models.SkipErased)
}

// scrubOutbox withdraws the lead's unsent emails and removes the person's
// data from every email kept for the lead, sent or not.
func scrubOutbox(tx *gorm.DB, l *models.Lead, now time.Time) error {
	if err := tx.Model(&models.OutboxMessage{}).Where("lead_id = ? AND status = ?", l.ID, models.OutboxPending).
		Updates(map[string]any{"status": models.OutboxCanceled, "updated_at": now}).Error; err != nil {
		return err
	}
	var rows []models.OutboxMessage
	if err := tx.Where("lead_id = ?", l.ID).Find(&rows).Error; err != nil {
		return err
	}
	for _, m := range rows {
		upd := map[string]any{"payload": scrubPayload(m.Payload)}
		if models.NormalizeEmail(m.ToAddr) == l.EmailKey {
			upd["to_addr"], upd["to_name"] = "erased", ""
		}
		if err := tx.Model(&models.OutboxMessage{}).Where("id = ?", m.ID).Updates(upd).Error; err != nil {
			return err
		}
	}
	return nil
}

func scrubPayload(payload string) string {
	var d models.MailData
	if err := json.Unmarshal([]byte(payload), &d); err != nil {
		return encodeJSON(models.MailData{})
	}
	d.Name, d.Email, d.Phone, d.CurrentTitle, d.Message, d.Reason = models.ErasedName, "", "", "", "", ""
	d.ReplyTo = nil // a host notice answers to the visitor
	// A follow-up's text was written to the person, with their name in it.
	d.FollowupSubject, d.FollowupBody, d.UnsubscribeToken = "", "", ""
	return encodeJSON(d)
}

// cancelFutureCalls cancels the lead's confirmed calls that have not begun,
// tells each host, and returns how many it canceled.
func (s *Store) cancelFutureCalls(tx *gorm.DB, l *models.Lead, actor *models.User, now time.Time) (int, error) {
	var bs []models.Booking
	if err := s.lockRows(tx.Where("lead_id = ? AND status = ? AND start_at > ?", l.ID, models.BookingConfirmed, now).
		Order("id")).Find(&bs).Error; err != nil {
		return 0, err
	}
	for i := range bs {
		b := &bs[i]
		if err := s.closeBooking(tx, b, "", now); err != nil {
			return 0, err
		}
		var host models.User
		if err := tx.Where("id = ?", b.HostID).Take(&host).Error; err != nil {
			return 0, err
		}
		notice := s.bookingMail(models.MailHostNotice, b, l, &host)
		notice.Change, notice.Reason = "canceled", "the person asked us to erase their data"
		if err := s.queueHostNotice(tx, &host, notice); err != nil {
			return 0, err
		}
		if err := s.addEvent(tx, l.ID, b.ID, models.EventBookingCanceled, actorName(actor), map[string]any{
			"booking_id": b.ID, "start": b.StartAt.UTC(), "reason": "lead erased"}); err != nil {
			return 0, err
		}
	}
	return len(bs), nil
}
