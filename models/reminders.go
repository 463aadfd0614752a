package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// EventReminderSent is the timeline event written with each reminder email.
const EventReminderSent = "reminder.sent"

// dueReminders is the sweep's select: pending reminders already due whose
// call is confirmed and has not begun, oldest due first. The booking check
// is a correlated scalar subquery on the primary key, which neither SQLite
// nor PostgreSQL turns into a join: reminders stays the driving table,
// searched through ix_reminders_status_due, so a sweep costs the number of
// due rows whatever the number of pending reminders or bookings. (With
// EXISTS, PostgreSQL without fresh statistics started from every future
// booking instead; see docs/PERFORMANCE.md.)
func (s *Store) dueReminders(tx *gorm.DB, now time.Time, limit int) *gorm.DB {
	q := tx.Model(&Reminder{}).
		Where("reminders.status = ? AND reminders.due_at <= ?", ReminderPending, now).
		Where("(SELECT b.start_at FROM bookings b WHERE b.id = reminders.booking_id AND b.status = ?) > ?",
			BookingConfirmed, now).
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
		now := s.Now()
		if err := s.retireReminders(tx, now, limit); err != nil {
			return err
		}
		var due []Reminder
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
		{ReminderCanceled, "(SELECT b.status FROM bookings b WHERE b.id = reminders.booking_id) <> ?",
			[]any{BookingConfirmed}},
		{ReminderSkipped, "(SELECT b.start_at FROM bookings b WHERE b.id = reminders.booking_id AND b.status = ?) <= ?",
			[]any{BookingConfirmed, now}},
	}
	for _, r := range rules {
		var ids []uint
		q := tx.Model(&Reminder{}).
			Where("reminders.status = ? AND reminders.due_at <= ?", ReminderPending, now).
			Where(r.cond, r.args...).
			Order("reminders.id").Limit(limit)
		if err := s.skipLocked(q).Pluck("reminders.id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			continue
		}
		if err := tx.Model(&Reminder{}).Where("id IN ? AND status = ?", ids, ReminderPending).
			Updates(map[string]any{"status": r.status, "updated_at": now}).Error; err != nil {
			return err
		}
	}
	return nil
}

// reminderContext is what a reminder email needs besides the reminder.
type reminderContext struct {
	bookings map[uint]*Booking
	leads    map[uint]*Lead
	hosts    map[uint]*User
}

// sendReminders claims due and queues the email and event of each row it
// won, and only those. It returns how many it queued.
func (s *Store) sendReminders(tx *gorm.DB, due []Reminder, now time.Time) (int, error) {
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
func (s *Store) claimReminders(tx *gorm.DB, due []Reminder, rc *reminderContext, now time.Time) (map[uint]bool, error) {
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
		if err := tx.Model(&Reminder{}).Where("id IN ? AND status = ?", broken, ReminderPending).
			Updates(map[string]any{"status": ReminderSkipped, "updated_at": now}).Error; err != nil {
			return nil, err
		}
	}
	won := make(map[uint]bool, len(ids))
	if len(ids) == 0 {
		return won, nil
	}
	var claimed []uint
	if err := tx.Raw("UPDATE reminders SET status = ?, sent_at = ?, updated_at = ? WHERE id IN ? AND status = ? RETURNING id",
		ReminderSent, now, now, ids, ReminderPending).Scan(&claimed).Error; err != nil {
		return nil, err
	}
	for _, id := range claimed {
		won[id] = true
	}
	return won, nil
}

// queueReminder writes one reminder email and its timeline event.
func (s *Store) queueReminder(tx *gorm.DB, r *Reminder, b *Booking, l *Lead, h *User) error {
	d := bookingMail(MailReminderPrefix+r.Offset, b, l, h)
	d.Offset = r.Offset
	if err := s.queueMail(tx, l.Email, l.Name, d); err != nil {
		return err
	}
	return s.addEvent(tx, l.ID, b.ID, EventReminderSent, ActorSystem, map[string]any{
		"booking_id": b.ID, "offset": r.Offset, "start": b.StartAt.UTC()})
}

// complete reports whether everything r's email needs was found.
func (rc *reminderContext) complete(r Reminder) bool {
	b := rc.bookings[r.BookingID]
	return b != nil && rc.leads[b.LeadID] != nil && rc.hosts[b.HostID] != nil
}

// loadReminderContext reads the bookings, leads and hosts of due in three
// queries, whatever the number of reminders.
func loadReminderContext(tx *gorm.DB, due []Reminder) (*reminderContext, error) {
	rc := &reminderContext{bookings: map[uint]*Booking{}, leads: map[uint]*Lead{}, hosts: map[uint]*User{}}
	bookingIDs := make([]uint, 0, len(due))
	for _, r := range due {
		bookingIDs = append(bookingIDs, r.BookingID)
	}
	var bs []Booking
	if err := tx.Where("id IN ?", uniqueIDs(bookingIDs)).Find(&bs).Error; err != nil {
		return nil, err
	}
	leadIDs, hostIDs := make([]uint, 0, len(bs)), make([]uint, 0, len(bs))
	for i := range bs {
		rc.bookings[bs[i].ID] = &bs[i]
		leadIDs, hostIDs = append(leadIDs, bs[i].LeadID), append(hostIDs, bs[i].HostID)
	}
	var ls []Lead
	if err := tx.Where("id IN ?", uniqueIDs(leadIDs)).Find(&ls).Error; err != nil {
		return nil, err
	}
	for i := range ls {
		rc.leads[ls[i].ID] = &ls[i]
	}
	var hs []User
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
		var b Booking
		err := s.lockRows(tx.Where("id = ?", bookingID)).Take(&b).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if b.Status != BookingConfirmed {
			return ErrBookingClosed
		}
		return s.scheduleReminders(tx, &b)
	})
}

// digestKeyPrefix marks, in settings, the business dates whose digest went
// out; the key's uniqueness is what stops a second process sending another.
const digestKeyPrefix = "digest:"

// errDigestDone rolls back a digest another process already queued.
var errDigestDone = errors.New("digest already queued for this date")

// QueueDigest queues the daily digest for the business date of date (in
// Location()): today's confirmed calls and yesterday's new leads, one email
// to each active sales or admin user who can sign in. It queues nothing when
// there is nothing to tell, and at most one digest per business date however
// many processes or runs ask (the date is recorded in the same transaction
// as the emails). It returns the number of emails queued.
func (s *Store) QueueDigest(ctx context.Context, date time.Time) (int, error) {
	day := date.In(s.loc)
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.loc)
	dd := &DigestData{Date: start.Format(time.DateOnly)}
	queued := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if dd.TodayCalls, err = digestCalls(tx, start.UTC(), start.AddDate(0, 0, 1).UTC()); err != nil {
			return err
		}
		if dd.NewLeads, err = digestLeads(tx, start.AddDate(0, 0, -1).UTC(), start.UTC()); err != nil {
			return err
		}
		if len(dd.TodayCalls) == 0 && len(dd.NewLeads) == 0 {
			return nil
		}
		var staff []User
		if err := tx.Where("disabled = ? AND role IN ? AND password_hash <> ?", false, []string{RoleSales, RoleAdmin}, "").
			Order("id").Find(&staff).Error; err != nil {
			return err
		}
		if len(staff) == 0 {
			return nil
		}
		if err := s.markDigest(tx, dd.Date); err != nil {
			return err
		}
		for _, u := range staff {
			d := MailData{Kind: MailDigest, Name: u.Name, Email: u.Email, Digest: dd}
			if err := s.queueMail(tx, u.Email, u.Name, d); err != nil {
				return err
			}
			queued++
		}
		return nil
	})
	if errors.Is(err, errDigestDone) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if queued > 0 {
		s.signalOutbox()
	}
	return queued, nil
}

// markDigest records that date's digest, or returns errDigestDone when a
// run committed it first (a concurrent one waits on the key, then sees it).
func (s *Store) markDigest(tx *gorm.DB, date string) error {
	res := tx.Exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
		digestKeyPrefix+date, s.Now().Format(time.RFC3339))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errDigestDone
	}
	return nil
}

// digestCalls lists the confirmed calls starting in [from, to), by time.
func digestCalls(tx *gorm.DB, from, to time.Time) ([]DigestCall, error) {
	calls := []DigestCall{}
	err := tx.Table("bookings").
		Select("bookings.start_at AS start, bookings.lead_id, leads.name, bookings.target_title, users.name AS host_name").
		Joins("JOIN leads ON leads.id = bookings.lead_id").
		Joins("JOIN users ON users.id = bookings.host_id").
		Where("bookings.status = ? AND bookings.start_at >= ? AND bookings.start_at < ?", BookingConfirmed, from, to).
		Order("bookings.start_at, bookings.id").Scan(&calls).Error
	for i := range calls {
		calls[i].Start = calls[i].Start.UTC()
	}
	return calls, err
}

// digestLeads lists the leads created in [from, to) and not erased.
func digestLeads(tx *gorm.DB, from, to time.Time) ([]DigestLead, error) {
	leads := []DigestLead{}
	err := tx.Table("leads").Select("id AS lead_id, name, target_title, role_slug").
		Where("created_at >= ? AND created_at < ? AND erased_at IS NULL", from, to).
		Order("created_at, id").Scan(&leads).Error
	return leads, err
}

// CleanupResult counts what one CleanUp changed.
type CleanupResult struct {
	IdempotencyKeys int64 // answers older than 24 hours, deleted
	OutcomesMissing int64 // past confirmed calls newly flagged as missing an outcome
	Sessions        int64 // expired staff sessions, deleted
	LoginAttempts   int64 // failed sign-ins older than a day, deleted
	DigestMarks     int64 // digest records older than 30 days, deleted
}

// Total is the number of rows CleanUp changed.
func (r CleanupResult) Total() int {
	return int(r.IdempotencyKeys + r.OutcomesMissing + r.Sessions + r.LoginAttempts + r.DigestMarks)
}

// CleanUp removes what has outlived its use: idempotency keys past their 24
// hours, expired sessions, failed sign-ins older than a day and old digest
// records; and flags every confirmed call that has ended without an outcome
// (outcome_missing), for the staff area. It is idempotent and runs in one
// transaction.
func (s *Store) CleanUp(ctx context.Context) (CleanupResult, error) {
	var r CleanupResult
	now := s.Now()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		dayAgo := now.Add(-24 * time.Hour)
		oldDigest := digestKeyPrefix + now.In(s.loc).AddDate(0, 0, -30).Format(time.DateOnly)
		steps := []struct {
			n   *int64
			run func() *gorm.DB
		}{
			{&r.IdempotencyKeys, func() *gorm.DB { return tx.Where("created_at < ?", dayAgo).Delete(&IdempotencyKey{}) }},
			{&r.OutcomesMissing, func() *gorm.DB {
				return tx.Model(&Booking{}).Where("status = ? AND end_at < ? AND outcome_missing = ?", BookingConfirmed, now, false).
					UpdateColumn("outcome_missing", true)
			}},
			{&r.Sessions, func() *gorm.DB { return tx.Where("expires_at < ?", now).Delete(&Session{}) }},
			{&r.LoginAttempts, func() *gorm.DB { return tx.Where("created_at < ?", dayAgo).Delete(&LoginAttempt{}) }},
			{&r.DigestMarks, func() *gorm.DB {
				return tx.Where("key LIKE ? AND key < ?", digestKeyPrefix+"%", oldDigest).Delete(&Setting{})
			}},
		}
		for _, st := range steps {
			res := st.run()
			if res.Error != nil {
				return res.Error
			}
			*st.n = res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return CleanupResult{}, err
	}
	return r, nil
}
