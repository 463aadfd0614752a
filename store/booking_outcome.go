package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// BookingFilter selects bookings for the staff calls page and API. Zero
// fields do not filter.
type BookingFilter struct {
	From, To time.Time // start in [From, To)
	Status   string
	LeadID   uint
	// Begun keeps only calls whose start is not after the store's clock;
	// Upcoming only those after it.
	Begun, Upcoming bool
	// Newest orders by start, newest first (default: oldest first).
	Newest bool
	Limit  int // default and maximum 1000
}

// maxStaffBookings bounds one staff booking list.
const maxStaffBookings = 1000

// StaffBookings lists bookings matching f with their lead and host, by start.
// An unknown status is a ValidationError.
func (s *Store) StaffBookings(ctx context.Context, f BookingFilter) ([]models.StaffBooking, error) {
	allowed := []string{models.BookingConfirmed, models.BookingCanceled, models.BookingCompleted, models.BookingNoShow}
	if f.Status != "" && !slices.Contains(allowed, f.Status) {
		return nil, models.Invalid("status", "must be confirmed, canceled, completed or no_show")
	}
	q := s.read.WithContext(ctx).Table("bookings").
		Select("bookings.*, COALESCE(u.name, '') AS host_name, l.name AS lead_name, l.email AS lead_email, l.target_title AS lead_target_title").
		Joins("JOIN leads l ON l.id = bookings.lead_id").
		Joins("LEFT JOIN users u ON u.id = bookings.host_id")
	q = f.apply(q, s.Now())
	if f.Limit <= 0 || f.Limit > maxStaffBookings {
		f.Limit = maxStaffBookings
	}
	order := "bookings.start_at, bookings.id"
	if f.Newest {
		order = "bookings.start_at DESC, bookings.id DESC"
	}
	rows := []models.StaffBooking{}
	err := q.Order(order).Limit(f.Limit).Scan(&rows).Error
	return rows, err
}

func (f BookingFilter) apply(q *gorm.DB, now time.Time) *gorm.DB {
	if !f.From.IsZero() {
		q = q.Where("bookings.start_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("bookings.start_at < ?", f.To.UTC())
	}
	if f.Status != "" {
		q = q.Where("bookings.status = ?", f.Status)
	}
	if f.LeadID != 0 {
		q = q.Where("bookings.lead_id = ?", f.LeadID)
	}
	if f.Begun {
		q = q.Where("bookings.start_at <= ?", now)
	}
	if f.Upcoming {
		q = q.Where("bookings.start_at > ?", now)
	}
	return q
}

// StaffBookingByID returns one booking with its lead and host, or ErrNotFound.
func (s *Store) StaffBookingByID(ctx context.Context, id uint) (*models.StaffBooking, error) {
	var rows []models.StaffBooking
	err := s.read.WithContext(ctx).Table("bookings").
		Select("bookings.*, COALESCE(u.name, '') AS host_name, l.name AS lead_name, l.email AS lead_email, l.target_title AS lead_target_title").
		Joins("JOIN leads l ON l.id = bookings.lead_id").
		Joins("LEFT JOIN users u ON u.id = bookings.host_id").
		Where("bookings.id = ?", id).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, models.ErrNotFound
	}
	return &rows[0], nil
}

// SetOutcome records what happened on a call that has begun: completed,
// no_show, or host_no_show (the host missed it: see hostMissedCall). It may correct an outcome recorded before, but never touches a
// canceled call or one still to come (ValidationError). The change writes
// booking.completed or booking.no_show with its actor in the same
// transaction, and clears the missing-outcome flag.
func (s *Store) SetOutcome(ctx context.Context, bookingID uint, outcome string, actor *models.User) (*models.StaffBooking, error) {
	ctx, now := s.withTxNow(ctx)
	if outcome != models.OutcomeCompleted && outcome != models.OutcomeNoShow && outcome != models.OutcomeHostNoShow {
		return nil, models.Invalid("outcome", "must be completed, no_show or host_no_show")
	}
	err := s.tx(withUserActor(ctx, actor), func(tx *gorm.DB) error {
		var b models.Booking
		if err := s.lockRows(tx.Where("id = ?", bookingID)).Take(&b).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		switch {
		case b.Status == models.BookingCanceled:
			return models.Invalid("outcome", "this call was canceled")
		case b.StartAt.After(now):
			return models.Invalid("outcome", "this call has not begun yet")
		case b.Status == outcome:
			return nil
		case outcome == models.OutcomeHostNoShow:
			return s.hostMissedCall(tx, &b, actor, now)
		}
		err := s.trackLead(tx, b.LeadID, func() error {
			return tx.Model(&models.Booking{}).Where("id = ?", b.ID).Updates(map[string]any{
				"status": outcome, "outcome_missing": false, "updated_at": now,
			}).Error
		})
		if err != nil {
			return err
		}
		if err := s.addEvent(tx, b.LeadID, b.ID, "booking."+outcome, models.ActorUser(actor), map[string]any{
			"booking_id": b.ID, "from": b.Status, "to": outcome}); err != nil {
			return err
		}
		if err := s.audit(tx, models.AuditOutcomeRecorded, models.AuditTarget{Type: models.AuditTargetBooking, ID: b.ID},
			map[string]any{"lead_id": b.LeadID, "from": b.Status, "to": outcome}); err != nil {
			return err
		}
		if err := s.followOutcome(tx, &b, outcome); err != nil {
			return err
		}
		return s.queueWebhooks(tx, b.LeadID, b.ID, models.WebhookBookingOutcome)
	})
	if err != nil {
		return nil, err
	}
	return s.StaffBookingByID(ctx, bookingID)
}

// hostMissedCall closes a call the host missed, inside SetOutcome's
// transaction: canceled with the reason, follow-ups of an outcome recorded
// before skipped, booking.host_no_show on the timeline, and the visitor's
// apology (host-no-show) with a link to book again.
func (s *Store) hostMissedCall(tx *gorm.DB, b *models.Booking, actor *models.User, now time.Time) error {
	from := b.Status
	err := s.trackLead(tx, b.LeadID, func() error {
		if err := s.closeBooking(tx, b, hostMissedReason, now); err != nil {
			return err
		}
		return tx.Model(&models.Booking{}).Where("id = ?", b.ID).Update("outcome_missing", false).Error
	})
	if err != nil {
		return err
	}
	if err := s.skipFollowups(tx, b.LeadID, b.ID, models.SkipOutcomeChanged); err != nil {
		return err
	}
	if err := s.addEvent(tx, b.LeadID, b.ID, "booking."+models.OutcomeHostNoShow, models.ActorUser(actor), map[string]any{
		"booking_id": b.ID, "from": from, "to": models.OutcomeHostNoShow}); err != nil {
		return err
	}
	if err := s.audit(tx, models.AuditOutcomeRecorded, models.AuditTarget{Type: models.AuditTargetBooking, ID: b.ID},
		map[string]any{"lead_id": b.LeadID, "from": from, "to": models.OutcomeHostNoShow}); err != nil {
		return err
	}
	lead, host, err := bookingParties(tx, b)
	if err != nil {
		return err
	}
	d := s.bookingMail(models.MailHostNoShow, b, lead, host)
	if err := s.setReplyTo(tx, &d, host); err != nil {
		return err
	}
	d.CallID = b.CallID // the same kind of call again
	if d.RebookToken, err = s.rebookLink(tx, &d, now); err != nil {
		return err
	}
	if err := s.queueMail(tx, lead.Email, lead.Name, d); err != nil {
		return err
	}
	return s.queueWebhooks(tx, b.LeadID, b.ID, models.WebhookBookingOutcome)
}

// hostMissedReason is the cancel reason of a call the host missed.
const hostMissedReason = "The host missed the call."
