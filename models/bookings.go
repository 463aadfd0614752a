package models

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// BookingRequest is a visitor's validated request for a call.
type BookingRequest struct {
	Name, Email, Phone        string
	CurrentTitle, TargetTitle string
	RoleSlug                  string
	Start                     time.Time
	Timezone                  string
	Message                   string
	UTMSource, UTMMedium      string
	UTMCampaign, UTMTerm      string
	UTMContent                string
	Referrer                  string
	Source, PageURL           string // SourceEmbed and the embedding page, for the embedded form
	// Answers to the role page's questions, kept with the booking and the lead.
	Answers Answers
	// Hosts are the host emails the answers route the call to (see
	// routeHosts); empty: any host.
	Hosts []string
	// Disqualified is set when the answers turn the visitor away: such a
	// request books nothing (see DisqualifyLead).
	Disqualified *Disqualification
}

// Idempotency ties a request to its Idempotency-Key. Render builds the
// response stored for replays, inside the booking's transaction.
type Idempotency struct {
	Key      string
	BodyHash string
	Render   func(b *Booking, l *Lead, host *User) (status int, body string, err error)
}

// Replay is the stored answer to a repeated idempotent request.
type Replay struct {
	Status int
	Body   string
}

// Error lets a Replay travel as an error out of BookSlot.
func (r *Replay) Error() string { return "idempotent replay" }

// BookingResult is what BookSlot made.
type BookingResult struct {
	Booking *Booking
	Lead    *Lead
	Host    *User
	Token   string
	// NewLead is true when this booking created the lead.
	NewLead bool
}

// BookSlot books the call req asks for: it upserts the lead by email, gives
// the call to the free host with the fewest upcoming calls, claims that
// host's time, and queues the confirmation, the host notice and the
// reminders, all in one transaction. A slot that is not offered, or that
// another request took first, is ErrSlotTaken; a repeated idempotent request
// returns *Replay.
func (s *Store) BookSlot(ctx context.Context, req BookingRequest, idem *Idempotency) (*BookingResult, error) {
	if req.Disqualified != nil {
		return nil, ErrNotEligible
	}
	var res *BookingResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if idem != nil {
			if err := s.claimIdempotencyKey(tx, idem); err != nil {
				return err
			}
		}
		lead, isNew, leadStats, err := s.upsertLead(tx, req)
		if err != nil {
			return err
		}
		if err := s.markLeadSource(tx, lead, req); err != nil {
			return err
		}
		b, host, err := s.placeBooking(tx, req, lead.ID)
		if err != nil {
			return err
		}
		if err := s.assignFirstCallOwner(tx, lead, b, host); err != nil {
			return err
		}
		if err := s.saveAnswers(tx, lead, b, req.Answers); err != nil {
			return err
		}
		res = &BookingResult{Booking: b, Lead: lead, Host: host, Token: s.BookingToken(b.UID), NewLead: isNew}
		// After the host locks placeBooking took: see addStats.
		if err := s.addStats(tx, append(leadStats, s.bookingStat(b))...); err != nil {
			return err
		}
		events := make([]Event, 0, 2)
		if isNew {
			events = append(events, s.newEvent(lead.ID, 0, "lead.created", ActorVisitor, map[string]any{
				"target_title": lead.TargetTitle, "role_slug": lead.RoleSlug, "utm_source": lead.UTMSource}))
		}
		events = append(events, s.newEvent(lead.ID, b.ID, "booking.created", ActorVisitor, map[string]any{
			"booking_id": b.ID, "start": b.StartAt, "timezone": b.Timezone, "host": host.Name}))
		if err := tx.Create(&events).Error; err != nil {
			return err
		}
		if err := s.queueBookingMails(tx, MailConfirmation, "booked", b, lead, host, nil); err != nil {
			return err
		}
		if err := s.scheduleReminders(tx, b); err != nil {
			return err
		}
		if idem != nil {
			status, body, err := idem.Render(b, lead, host)
			if err != nil {
				return err
			}
			if err := tx.Model(&IdempotencyKey{}).Where("key = ?", idem.Key).
				Updates(map[string]any{"status_code": status, "response": body}).Error; err != nil {
				return err
			}
		}
		if err := s.bumpAvailability(tx); err != nil {
			return err
		}
		return s.queueWebhooks(tx, lead.ID, b.ID, newLeadWebhooks(isNew, WebhookBookingCreated)...)
	})
	if err != nil {
		var rp *Replay
		if idem != nil && errors.As(err, &rp) {
			return nil, rp
		}
		if idem != nil && isUniqueViolation(err) {
			// Another request with this key committed while we worked.
			if rp, e := s.idempotentReplay(ctx, idem); e == nil {
				return nil, rp
			} else if !errors.Is(e, ErrNotFound) {
				return nil, e
			}
		}
		return nil, err
	}
	s.signalOutbox()
	return res, nil
}

// claimIdempotencyKey inserts the key first, so a concurrent twin blocks on
// it and then replays; an earlier use answers with a *Replay or a conflict.
func (s *Store) claimIdempotencyKey(tx *gorm.DB, idem *Idempotency) error {
	var prev IdempotencyKey
	err := tx.Where("key = ?", idem.Key).Take(&prev).Error
	switch {
	case err == nil && prev.CreatedAt.After(s.Now().Add(-24*time.Hour)):
		if prev.BodyHash != idem.BodyHash {
			return ErrIdempotencyConflict
		}
		return &Replay{Status: prev.StatusCode, Body: prev.Response}
	case err == nil:
		if err := tx.Delete(&prev).Error; err != nil {
			return err
		}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return err
	}
	return tx.Create(&IdempotencyKey{Key: idem.Key, BodyHash: idem.BodyHash, CreatedAt: s.Now()}).Error
}

func (s *Store) idempotentReplay(ctx context.Context, idem *Idempotency) (*Replay, error) {
	var prev IdempotencyKey
	err := s.write.WithContext(ctx).Where("key = ?", idem.Key).Take(&prev).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if prev.BodyHash != idem.BodyHash {
		return nil, ErrIdempotencyConflict
	}
	return &Replay{Status: prev.StatusCode, Body: prev.Response}, nil
}

// upsertLead finds the lead by normalized email or creates it. A returning
// visitor's new details update the lead, each change recorded with its old
// and new value; the first-touch source is kept (returningLeadChanges).
func (s *Store) upsertLead(tx *gorm.DB, req BookingRequest) (*Lead, bool, []StatsDaily, error) {
	now := s.Now()
	l := Lead{
		EmailKey: NormalizeEmail(req.Email), Email: req.Email, Name: req.Name, Phone: req.Phone,
		CurrentTitle: req.CurrentTitle, TargetTitle: req.TargetTitle, RoleSlug: req.RoleSlug, Status: LeadNew,
		UTMSource: req.UTMSource, UTMMedium: req.UTMMedium, UTMCampaign: req.UTMCampaign, UTMTerm: req.UTMTerm,
		UTMContent: req.UTMContent, Referrer: req.Referrer, CreatedAt: now, UpdatedAt: now,
		FirstUTMSource: req.UTMSource, FirstUTMMedium: req.UTMMedium, FirstUTMCampaign: req.UTMCampaign,
		FirstUTMTerm: req.UTMTerm, FirstUTMContent: req.UTMContent, FirstReferrer: req.Referrer,
	}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email_key"}}, DoNothing: true}).Create(&l)
	if res.Error != nil {
		return nil, false, nil, res.Error
	}
	if res.RowsAffected == 1 && l.ID != 0 {
		return &l, true, []StatsDaily{s.statOfLead(&l, 0, 0).row(1)}, nil
	}
	var existing Lead
	if err := s.lockRows(tx.Where("email_key = ?", l.EmailKey)).Take(&existing).Error; err != nil {
		return nil, false, nil, err
	}
	upd, changes := returningLeadChanges(&existing, req)
	upd["updated_at"] = now
	update := func() error { return tx.Model(&existing).Updates(upd).Error }
	var err error
	var stats []StatsDaily
	if existing.TargetTitle != req.TargetTitle {
		// The lead moves to another title's figures on the dashboard.
		stats, err = s.leadStatMove(tx, existing.ID, update)
	} else {
		err = update()
	}
	if err != nil {
		return nil, false, nil, err
	}
	if len(changes) > 0 {
		if err := s.addEvent(tx, existing.ID, 0, "lead.details_changed", ActorVisitor, changes); err != nil {
			return nil, false, nil, err
		}
	}
	return &existing, false, stats, nil
}

// placeBooking picks a free host for req.Start, claims its time and inserts
// the booking. Candidate hosts are locked in id order on PostgreSQL, so
// racing requests queue per host and can never deadlock.
func (s *Store) placeBooking(tx *gorm.DB, req BookingRequest, leadID uint) (*Booking, *User, error) {
	now := s.Now()
	bs, err := s.bookingSettings(tx)
	if err != nil {
		return nil, nil, err
	}
	var hosts []User
	if err := s.lockRows(tx.Where("host = ? AND disabled = ?", true, false).Order("id")).Find(&hosts).Error; err != nil {
		return nil, nil, err
	}
	routed := normalizeEmails(req.Hosts)
	hosts = routeHosts(hosts, routed, func(u *User) string { return u.Email })
	host, err := s.pickHostFor(tx, hosts, req, bs)
	if err != nil {
		return nil, nil, err
	}
	uid := RandomToken(16)
	b := &Booking{
		UID: uid, TokenHash: hashToken(s.BookingToken(uid)), LeadID: leadID, HostID: host.ID,
		Status: BookingConfirmed, StartAt: req.Start.UTC(), EndAt: req.Start.Add(bs.Duration()).UTC(),
		Timezone: req.Timezone, TargetTitle: req.TargetTitle, RoleSlug: req.RoleSlug, Message: req.Message,
		RouteHosts: strings.Join(routed, ","), CreatedAt: now, UpdatedAt: now,
	}
	s.setBookingMeeting(b, host)
	if err := tx.Create(b).Error; err != nil {
		return nil, nil, err
	}
	if err := s.claimTime(tx, b, bs); err != nil {
		return nil, nil, err
	}
	return b, host, nil
}

// claimTime inserts b's claims. A unique violation means another booking
// holds part of that time: ErrSlotTaken.
func (s *Store) claimTime(tx *gorm.DB, b *Booking, bs BookingSettings) error {
	units := claimUnits(b.StartAt, b.EndAt.Sub(b.StartAt)+bs.Buffer())
	claims := make([]BookingClaim, len(units))
	for i, u := range units {
		claims[i] = BookingClaim{HostID: b.HostID, Unit: u, BookingID: b.ID}
	}
	if err := tx.Create(&claims).Error; err != nil {
		if isUniqueViolation(err) {
			return ErrSlotTaken
		}
		return err
	}
	return nil
}

// releaseTime frees b's claims.
func releaseTime(tx *gorm.DB, bookingID uint) error {
	return tx.Where("booking_id = ?", bookingID).Delete(&BookingClaim{}).Error
}

// scheduleReminders writes one reminder per configured offset for b, due at
// the offset before the call. One already due is written as skipped: the
// confirmation (or reschedule notice) has just gone out.
func (s *Store) scheduleReminders(tx *gorm.DB, b *Booking) error {
	if len(s.reminders) == 0 {
		return nil
	}
	now := s.Now()
	rows := make([]Reminder, 0, len(s.reminders))
	for _, r := range s.reminders {
		due := b.StartAt.Add(-r.Before)
		st := ReminderPending
		if !due.After(now) {
			st = ReminderSkipped
		}
		rows = append(rows, Reminder{BookingID: b.ID, Offset: r.Label, DueAt: due, Status: st, CreatedAt: now, UpdatedAt: now})
	}
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "booking_id"}, {Name: "offset_label"}},
		DoUpdates: clause.AssignmentColumns([]string{"due_at", "status", "updated_at"}),
	}).Create(&rows).Error
}
