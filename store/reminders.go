package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// dueReminders is the sweep's select: pending reminders already due whose
// call is confirmed and has not begun, oldest due first. The booking check
// is a correlated scalar subquery on the primary key, which neither SQLite
// nor PostgreSQL turns into a join: reminders stays the driving table,
// searched through ix_reminders_status_due, so a sweep costs the number of
// due rows whatever the number of pending reminders or bookings. (With
// EXISTS, PostgreSQL without fresh statistics started from every future
// booking instead; see docs/PERFORMANCE.md.)
func (s *Store) dueReminders(tx *gorm.DB, now time.Time, limit int) *gorm.DB {
	q := tx.Model(&models.Reminder{}).
		Where("reminders.status = ? AND reminders.due_at <= ?", models.ReminderPending, now).
		Where("(SELECT b.start_at FROM bookings b WHERE b.id = reminders.booking_id AND b.status = ?) > ?",
			models.BookingConfirmed, now).
		Order("reminders.due_at, reminders.id").Limit(limit)
	return s.skipLocked(q)
}

// SweepReminders queues the email of every reminder that is due, at most
// limit of them, and returns how many it queued.
//
// It guarantees, across any number of processes sweeping at once and across
// crashes: a reminder's email is queued at most once (the claim pending →
// sent and the outbox row commit in one transaction, and only the sweep
// whose conditional update changed the row writes the email); never for a
// call that is not confirmed; never once the call has begun. Due reminders
// whose call began, or was canceled, are retired in the same sweep (skipped
// or canceled) so they are never sent late. A reminder that fell due while
// no sweep ran is sent by the next one, as long as the call has not begun.
func (s *Store) SweepReminders(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	queued := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.txNow(tx)
		if err := s.retireReminders(tx, now, limit); err != nil {
			return err
		}
		var due []models.Reminder
		if err := s.dueReminders(tx, now, limit).Find(&due).Error; err != nil {
			return err
		}
		n, err := s.sendReminders(tx, due, now)
		queued = n
		return err
	})
	if err != nil {
		return 0, err
	}
	if queued > 0 {
		s.signalOutbox()
	}
	return queued, nil
}

// retireReminders closes due reminders that must never be sent: those of a
// call that is no longer confirmed become canceled, those of a call that has
// begun become skipped. Rows are claimed with SKIP LOCKED and then updated
// by id, so two sweeps never wait on each other in different orders.
func (s *Store) retireReminders(tx *gorm.DB, now time.Time, limit int) error {
	rules := []struct {
		status string
		cond   string
		args   []any
	}{
		{models.ReminderCanceled, "(SELECT b.status FROM bookings b WHERE b.id = reminders.booking_id) <> ?",
			[]any{models.BookingConfirmed}},
		{models.ReminderSkipped, "(SELECT b.start_at FROM bookings b WHERE b.id = reminders.booking_id AND b.status = ?) <= ?",
			[]any{models.BookingConfirmed, now}},
	}
	for _, r := range rules {
		var ids []uint
		q := tx.Model(&models.Reminder{}).
			Where("reminders.status = ? AND reminders.due_at <= ?", models.ReminderPending, now).
			Where(r.cond, r.args...).
			Order("reminders.id").Limit(limit)
		if err := s.skipLocked(q).Pluck("reminders.id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			continue
		}
		if err := tx.Model(&models.Reminder{}).Where("id IN ? AND status = ?", ids, models.ReminderPending).
			Updates(map[string]any{"status": r.status, "updated_at": now}).Error; err != nil {
			return err
		}
	}
	return nil
}

// reminderContext is what a reminder email needs besides the reminder.
type reminderContext struct {
	bookings map[uint]*models.Booking
	leads    map[uint]*models.Lead
	hosts    map[uint]*models.User
}

// sendReminders claims due and queues the email and event of each row it
// won, and only those. It returns how many it queued.
func (s *Store) sendReminders(tx *gorm.DB, due []models.Reminder, now time.Time) (int, error) {
	if len(due) == 0 {
		return 0, nil
	}
	rc, err := loadReminderContext(tx, due)
	if err != nil {
		return 0, err
	}
	won, err := s.claimReminders(tx, due, rc, now)
	if err != nil {
		return 0, err
	}
	queued := 0
	for i := range due {
		r := &due[i]
		if !won[r.ID] {
			continue
		}
		b := rc.bookings[r.BookingID]
		if err := s.queueReminder(tx, r, b, rc.leads[b.LeadID], rc.hosts[b.HostID]); err != nil {
			return 0, err
		}
		queued++
	}
	return queued, nil
}

// claimReminders moves due from pending to sent in one conditional update
// and returns the ids that update changed: a row another sweep sent first
// is not among them. A row whose booking, lead or host is gone is skipped.
func (s *Store) claimReminders(tx *gorm.DB, due []models.Reminder, rc *reminderContext, now time.Time) (map[uint]bool, error) {
	ids, broken := make([]uint, 0, len(due)), []uint{}
	for _, r := range due {
		if rc.complete(r) {
			ids = append(ids, r.ID)
			continue
		}
		broken = append(broken, r.ID)
		s.log.Warn("reminder skipped: its booking, lead or host is gone", "reminder_id", r.ID, "booking_id", r.BookingID)
	}
	if len(broken) > 0 {
		if err := tx.Model(&models.Reminder{}).Where("id IN ? AND status = ?", broken, models.ReminderPending).
			Updates(map[string]any{"status": models.ReminderSkipped, "updated_at": now}).Error; err != nil {
			return nil, err
		}
	}
	won := make(map[uint]bool, len(ids))
	if len(ids) == 0 {
		return won, nil
	}
	var claimed []uint
	if err := tx.Raw("UPDATE reminders SET status = ?, sent_at = ?, updated_at = ? WHERE id IN ? AND status = ? RETURNING id",
		models.ReminderSent, now, now, ids, models.ReminderPending).Scan(&claimed).Error; err != nil {
		return nil, err
	}
	for _, id := range claimed {
		won[id] = true
	}
	return won, nil
}

// queueReminder writes one reminder email and its timeline event.
func (s *Store) queueReminder(tx *gorm.DB, r *models.Reminder, b *models.Booking, l *models.Lead, h *models.User) error {
	d := s.bookingMail(models.MailReminderPrefix+r.Offset, b, l, h)
	d.Offset = r.Offset
	if err := s.setReplyTo(tx, &d, h); err != nil {
		return err
	}
	if err := s.queueMail(tx, l.Email, l.Name, d); err != nil {
		return err
	}
	return s.addEvent(tx, l.ID, b.ID, models.EventReminderSent, models.ActorSystem, map[string]any{
		"booking_id": b.ID, "offset": r.Offset, "start": b.StartAt.UTC()})
}

// complete reports whether everything r's email needs was found.
func (rc *reminderContext) complete(r models.Reminder) bool {
	b := rc.bookings[r.BookingID]
	return b != nil && rc.leads[b.LeadID] != nil && rc.hosts[b.HostID] != nil
}

// loadReminderContext reads the bookings, leads and hosts of due in three
// queries, whatever the number of reminders.
func loadReminderContext(tx *gorm.DB, due []models.Reminder) (*reminderContext, error) {
	rc := &reminderContext{bookings: map[uint]*models.Booking{}, leads: map[uint]*models.Lead{}, hosts: map[uint]*models.User{}}
	bookingIDs := make([]uint, 0, len(due))
	for _, r := range due {
		bookingIDs = append(bookingIDs, r.BookingID)
	}
	var bs []models.Booking
	if err := tx.Where("id IN ?", uniqueIDs(bookingIDs)).Find(&bs).Error; err != nil {
		return nil, err
	}
	leadIDs, hostIDs := make([]uint, 0, len(bs)), make([]uint, 0, len(bs))
	for i := range bs {
		rc.bookings[bs[i].ID] = &bs[i]
		leadIDs, hostIDs = append(leadIDs, bs[i].LeadID), append(hostIDs, bs[i].HostID)
	}
	var ls []models.Lead
	if err := tx.Where("id IN ?", uniqueIDs(leadIDs)).Find(&ls).Error; err != nil {
		return nil, err
	}
	for i := range ls {
		rc.leads[ls[i].ID] = &ls[i]
	}
	var hs []models.User
	if err := tx.Where("id IN ?", uniqueIDs(hostIDs)).Find(&hs).Error; err != nil {
		return nil, err
	}
	for i := range hs {
		rc.hosts[hs[i].ID] = &hs[i]
	}
	return rc, nil
}

// uniqueIDs drops repeated ids, keeping the first occurrence's order.
func uniqueIDs(ids []uint) []uint {
	seen := make(map[uint]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// RescheduleReminders re-derives the reminders of a confirmed booking from
// its current start time, in one transaction, exactly as a reschedule does
// inside its own transaction: offsets already due become skipped, later ones
// pending (again, if one was sent for the old time). It is for tools and
// tests that moved a call's time directly; ErrNotFound for no such booking,
// ErrBookingClosed when the booking is not confirmed.
func (s *Store) RescheduleReminders(ctx context.Context, bookingID uint) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var b models.Booking
		err := s.lockRows(tx.Where("id = ?", bookingID)).Take(&b).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNotFound
		}
		if err != nil {
			return err
		}
		if b.Status != models.BookingConfirmed {
			return models.ErrBookingClosed
		}
		return s.scheduleReminders(tx, &b)
	})
}

// digestKeyPrefix marks, in settings, the business dates whose digest went
// out; the key's uniqueness is what stops a second process sending another.
const digestKeyPrefix = "digest:"

// errDigestDone rolls back a digest another process already queued.
var errDigestDone = errors.New("digest already queued for this date")
