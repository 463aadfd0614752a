package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// maxCancelReason is the longest reason a cancellation may carry, in characters.
const maxCancelReason = 1000

// bookingKey narrows a query to one booking: by visitor token or by id.
type bookingKey func(q *gorm.DB) *gorm.DB

// tokenKey finds a booking by its visitor token. A token that cannot be one
// is ErrNotFound at once, like any other miss.
func tokenKey(token string) (bookingKey, error) {
	if len(token) < 20 || len(token) > 100 {
		return nil, models.ErrNotFound
	}
	h := hashToken(token)
	return func(q *gorm.DB) *gorm.DB { return q.Where("token_hash = ?", h) }, nil
}

func idKey(id uint) bookingKey {
	return func(q *gorm.DB) *gorm.DB { return q.Where("id = ?", id) }
}

func actorOr(actor, fallback string) string {
	if actor == "" {
		return fallback
	}
	return actor
}

// RescheduleBooking moves the booking whose visitor token is token to
// newStart, for actor (ActorVisitor when empty). The token stays valid.
//
// In one transaction it frees the old time and claims the new one under the
// no-double-booking rule, keeping the booking's host when that host is free
// then (else the free host with the fewest upcoming calls), raises the
// iCalendar sequence, moves the reminders (offsets already due become
// skipped), withdraws reminder emails not yet sent, queues the visitor's
// reschedule email and the host notice, and writes booking.rescheduled on
// the lead's timeline. Nothing is written when it fails.
//
// Errors: ErrNotFound for an unknown token; ErrBookingClosed when the call
// was canceled or has begun; a ValidationError on "start" when newStart is
// the call's current time or inside the minimum notice; ErrSlotTaken when
// newStart is not offered or another request took it first.
func (s *Store) RescheduleBooking(ctx context.Context, token string, newStart time.Time, actor string) (*models.BookingResult, error) {
	key, err := tokenKey(token)
	if err != nil {
		return nil, err
	}
	return s.reschedule(ctx, key, newStart, actorOr(actor, models.ActorVisitor))
}

// RescheduleBookingByID is RescheduleBooking for staff, who know the
// booking's id; actor is ActorSystem when empty.
func (s *Store) RescheduleBookingByID(ctx context.Context, id uint, newStart time.Time, actor string) (*models.BookingResult, error) {
	return s.reschedule(ctx, idKey(id), newStart, actorOr(actor, models.ActorSystem))
}

// CancelBooking cancels the booking whose visitor token is token, with an
// optional reason (at most 1000 characters, line breaks allowed), for actor
// (ActorVisitor when empty). The token keeps showing the canceled booking.
//
// In one transaction it marks the booking canceled, raises the iCalendar
// sequence, frees its time (offered again at once), cancels its pending
// reminders, withdraws its unsent reminder, confirmation and reschedule
// emails, queues the visitor's cancellation and the host notice, and writes
// booking.canceled on the lead's timeline.
//
// Errors: ErrNotFound for an unknown token; ErrBookingClosed when the call
// was already canceled or has begun; a ValidationError on "reason".
func (s *Store) CancelBooking(ctx context.Context, token, reason, actor string) (*models.Booking, error) {
	key, err := tokenKey(token)
	if err != nil {
		return nil, err
	}
	return s.cancel(ctx, key, reason, actorOr(actor, models.ActorVisitor))
}

// CancelBookingByID is CancelBooking for staff, who know the booking's id;
// actor is ActorSystem when empty.
func (s *Store) CancelBookingByID(ctx context.Context, id uint, reason, actor string) (*models.Booking, error) {
	return s.cancel(ctx, idKey(id), reason, actorOr(actor, models.ActorSystem))
}

// lockOpenBooking loads and locks the booking key names and refuses one
// that can no longer change: not confirmed, or its call has begun.
func (s *Store) lockOpenBooking(tx *gorm.DB, key bookingKey, now time.Time) (*models.Booking, error) {
	var b models.Booking
	err := s.lockRows(key(tx)).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if b.Status != models.BookingConfirmed || !b.StartAt.After(now) {
		return nil, models.ErrBookingClosed
	}
	return &b, nil
}

// bookingParties loads the lead and the host of b inside tx.
func bookingParties(tx *gorm.DB, b *models.Booking) (*models.Lead, *models.User, error) {
	var l models.Lead
	if err := tx.Where("id = ?", b.LeadID).Take(&l).Error; err != nil {
		return nil, nil, err
	}
	var h models.User
	if err := tx.Where("id = ?", b.HostID).Take(&h).Error; err != nil {
		return nil, nil, err
	}
	return &l, &h, nil
}

func (s *Store) reschedule(ctx context.Context, key bookingKey, newStart time.Time, actor string) (*models.BookingResult, error) {
	newStart = newStart.UTC()
	var res *models.BookingResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.txNow(tx)
		b, err := s.lockOpenBooking(tx, key, now)
		if err != nil {
			return err
		}
		shared, err := s.bookingSettings(tx)
		if err != nil {
			return err
		}
		kind := s.bookingKind(b)
		bs := settingsFor(shared, kind)
		if err := checkNewStart(b, newStart, bs, now); err != nil {
			return err
		}
		var visitor models.Lead
		if err := tx.Where("id = ?", b.LeadID).Take(&visitor).Error; err != nil {
			return err
		}
		hosts, err := s.enabledHosts(tx)
		if err != nil {
			return err
		}
		hosts = kindHosts(hosts, kind, splitRouteHosts(b.RouteHosts))
		// Only hosts who can take the visitor: one who left no number never
		// gets a host who phones.
		hosts, _ = s.hostsTaking(hosts, visitor.Phone)
		before := *b
		var host *models.User
		if b.Collective {
			// Every host of the call moves with it, or the move fails.
			if host, err = s.moveCollective(tx, b, newStart, bs, now); err != nil {
				return err
			}
		} else if host, err = s.placeOnAHost(tx, hosts, func(hosts []models.User) (*models.User, error) {
			return s.pickRescheduleHost(tx, hosts, b, newStart, bs, now)
		}, func(host *models.User) error {
			*b = before // a retry starts from the call as it was
			if host.ID != b.HostID {
				s.setBookingMeeting(b, host) // a new host, its own room
			}
			return s.moveBooking(tx, b, host.ID, newStart, bs, now)
		}, false); err != nil {
			return err
		}
		lead, _, err := bookingParties(tx, b)
		if err != nil {
			return err
		}
		if err := s.announceMove(tx, &before, b, lead, host, actor); err != nil {
			return err
		}
		res = &models.BookingResult{Booking: b, Lead: lead, Host: host, Token: s.BookingToken(b.UID)}
		if err := s.bumpAvailability(tx); err != nil {
			return err
		}
		return s.queueWebhooks(tx, lead.ID, b.ID, models.WebhookBookingRescheduled)
	})
	if err != nil {
		return nil, err
	}
	s.signalOutbox()
	return res, nil
}

// checkNewStart refuses a move to the call's own time or inside the minimum
// notice, with a message the visitor can act on. Whether the time is
// offered at all is pickHost's to say.
func checkNewStart(b *models.Booking, start time.Time, bs callSettings, now time.Time) error {
	switch {
	case start.Equal(b.StartAt):
		return models.Invalid("start", "is already the time of this call; pick another time")
	case start.Before(now.Add(bs.Notice())):
		return models.Invalid("start", "is too soon: calls must be booked at least "+noticeText(bs.MinNoticeMinutes)+
			" ahead; pick a later time")
	}
	return nil
}

// noticeText writes a notice in minutes as people say it: "4 hours".
func noticeText(minutes int) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case minutes >= 24*60 && minutes%(24*60) == 0:
		return plural(minutes/(24*60), "day")
	case minutes >= 60 && minutes%60 == 0:
		return plural(minutes/60, "hour")
	}
	return plural(minutes, "minute")
}

// pickRescheduleHost keeps the booking's own host when that host is free
// at start (the visitor keeps their coach), else takes the least-loaded
// free host among hosts (already narrowed to the route and to hosts who
// can take the visitor).
func (s *Store) pickRescheduleHost(tx *gorm.DB, hosts []models.User, b *models.Booking, start time.Time, bs callSettings, now time.Time) (*models.User, error) {
	for i := range hosts {
		if hosts[i].ID != b.HostID {
			continue
		}
		h, err := s.pickHost(tx, hosts[i:i+1], start, bs, now, b.ID)
		if !errors.Is(err, models.ErrSlotTaken) {
			return h, err
		}
	}
	return s.pickHost(tx, hosts, start, bs, now, b.ID)
}

// moveBooking frees b's time, gives it start with hostID, claims the new
// time (a clash is ErrSlotTaken and the caller's transaction rolls back),
// raises the sequence, moves the reminders and withdraws the unsent
// reminders, confirmation and earlier reschedule emails about the old time.
func (s *Store) moveBooking(tx *gorm.DB, b *models.Booking, hostID uint, start time.Time, bs callSettings, now time.Time) error {
	if err := releaseTime(tx, b); err != nil {
		return err
	}
	b.HostID, b.StartAt, b.EndAt = hostID, start, start.Add(bs.Duration())
	b.Sequence++
	b.UpdatedAt = now
	ids, err := bookingHostIDs(tx, b)
	if err != nil {
		return err
	}
	if err := s.claimTime(tx, b, bs, ids...); err != nil {
		return err
	}
	if err := tx.Model(&models.Booking{}).Where("id = ?", b.ID).Updates(map[string]any{
		"host_id": b.HostID, "start_at": b.StartAt, "end_at": b.EndAt, "sequence": b.Sequence, "updated_at": now,
		"meeting_kind": b.MeetingKind, "meeting_url": b.MeetingURL, "meeting_address": b.MeetingAddress,
	}).Error; err != nil {
		return err
	}
	if err := s.scheduleReminders(tx, b); err != nil {
		return err
	}
	// An unsent confirmation (or earlier move) names the old time; the
	// reschedule email about to be queued carries the new invite instead.
	return withdrawMail(tx, b.ID, now, models.MailConfirmation, models.MailReschedule)
}

// announceMove queues the reschedule email and the host notice and writes
// the event. When the call changed hosts, the previous host is told their
// call is off.
func (s *Store) announceMove(tx *gorm.DB, before, b *models.Booking, lead *models.Lead, host *models.User, actor string) error {
	prev := before.StartAt.UTC()
	if err := s.queueBookingMails(tx, models.MailReschedule, "rescheduled", b, lead, host, func(d *models.MailData) {
		d.PreviousStart = &prev
	}); err != nil {
		return err
	}
	data := map[string]any{"booking_id": b.ID, "from": prev, "to": b.StartAt.UTC(), "actor": actor, "host": host.Name}
	if before.HostID != host.ID {
		var old models.User
		if err := tx.Where("id = ?", before.HostID).Take(&old).Error; err != nil {
			return err
		}
		notice := s.bookingMail(models.MailHostNotice, before, lead, &old)
		notice.Change, notice.Reason = "canceled", "moved to another time with "+host.Name
		notice.Sequence = b.Sequence // the old host's copy of the event is withdrawn
		notice.ReplyTo = visitorReplyTo(lead)
		if err := s.queueHostNotice(tx, &old, notice); err != nil {
			return err
		}
		data["previous_host"] = old.Name
	}
	return s.addEvent(tx, lead.ID, b.ID, models.EventBookingRescheduled, actor, data)
}

// withdrawMail cancels this booking's emails that no sender has claimed
// yet: every reminder, and those of the kinds also named.
func withdrawMail(tx *gorm.DB, bookingID uint, now time.Time, also ...string) error {
	cond, args := "kind LIKE ?", []any{models.MailReminderPrefix + "%"}
	if len(also) > 0 {
		cond, args = "(kind LIKE ? OR kind IN ?)", append(args, also)
	}
	return tx.Model(&models.OutboxMessage{}).
		Where("booking_id = ? AND status = ?", bookingID, models.OutboxPending).Where(cond, args...).
		Updates(map[string]any{"status": models.OutboxCanceled, "updated_at": now}).Error
}

func (s *Store) cancel(ctx context.Context, key bookingKey, reason, actor string) (*models.Booking, error) {
	verr := &models.ValidationError{}
	reason = models.CheckMultiline(verr, "reason", reason, maxCancelReason)
	if err := verr.Err(); err != nil {
		return nil, err
	}
	var out *models.Booking
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.txNow(tx)
		b, err := s.lockOpenBooking(tx, key, now)
		if err != nil {
			return err
		}
		if err := s.closeBooking(tx, b, reason, now); err != nil {
			return err
		}
		lead, host, err := bookingParties(tx, b)
		if err != nil {
			return err
		}
		if err := s.queueBookingMails(tx, models.MailCancellation, "canceled", b, lead, host, func(d *models.MailData) {
			d.Reason = reason
		}); err != nil {
			return err
		}
		if err := s.addEvent(tx, lead.ID, b.ID, models.EventBookingCanceled, actor, map[string]any{
			"booking_id": b.ID, "start": b.StartAt.UTC(), "reason": reason, "actor": actor}); err != nil {
			return err
		}
		if err := s.queueFollowups(tx, models.FollowupCanceled, lead, b, host, b.RoleSlug); err != nil {
			return err
		}
		out = b
		if err := s.bumpAvailability(tx); err != nil {
			return err
		}
		return s.queueWebhooks(tx, lead.ID, b.ID, models.WebhookBookingCanceled)
	})
	if err != nil {
		return nil, err
	}
	s.signalOutbox()
	return out, nil
}

// closeBooking marks b canceled, frees its time, cancels its pending
// reminders and withdraws the unsent emails about the call.
func (s *Store) closeBooking(tx *gorm.DB, b *models.Booking, reason string, now time.Time) error {
	b.Status, b.CanceledAt, b.CancelReason, b.UpdatedAt = models.BookingCanceled, timePtr(now), reason, now
	b.Sequence++
	if err := tx.Model(&models.Booking{}).Where("id = ?", b.ID).Updates(map[string]any{
		"status": b.Status, "canceled_at": b.CanceledAt, "cancel_reason": reason, "sequence": b.Sequence, "updated_at": now,
	}).Error; err != nil {
		return err
	}
	if err := releaseTime(tx, b); err != nil {
		return err
	}
	if err := tx.Model(&models.Reminder{}).Where("booking_id = ? AND status = ?", b.ID, models.ReminderPending).
		Updates(map[string]any{"status": models.ReminderCanceled, "updated_at": now}).Error; err != nil {
		return err
	}
	return withdrawMail(tx, b.ID, now, models.MailConfirmation, models.MailReschedule)
}
