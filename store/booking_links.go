package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// NewBookingLink makes a private link to book spec's kind of call and
// returns it with its token (128 random bits; only a hash is kept). The
// link's address is {base}/l/{token}. Uses default to 1 and the expiry to
// 14 days from now.
func (s *Store) NewBookingLink(ctx context.Context, spec models.LinkSpec) (*models.BookingLink, string, error) {
	var link *models.BookingLink
	var token string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		link, token, err = s.createBookingLink(tx, spec)
		return err
	})
	return link, token, err
}

// CreateBookingLink makes a one-use private link to book kind callID
// (empty: the role's first public kind) of role roleSlug for lead leadID,
// working for ttl, and returns its token: the link is {base}/l/{token}.
// For emails that offer the lead a new call (such as a rebook link).
func (s *Store) CreateBookingLink(ctx context.Context, leadID uint, callID, roleSlug string, ttl time.Duration) (string, error) {
	_, token, err := s.NewBookingLink(ctx, models.LinkSpec{RoleSlug: roleSlug, CallID: callID, LeadID: &leadID,
		Uses: 1, ExpiresAt: s.Now().Add(ttl)})
	return token, err
}

// SendBookingLink makes a private link as NewBookingLink does and, in the
// same transaction, the email (kind booking-link) that sends it to mail's
// address, in mail's language; it returns the link's token.
func (s *Store) SendBookingLink(ctx context.Context, spec models.LinkSpec, mail models.MailData) (string, error) {
	var token string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if _, token, err = s.createBookingLink(tx, spec); err != nil {
			return err
		}
		mail.Kind, mail.RebookToken = models.MailBookingLink, token
		return s.queueMail(tx, mail.Email, mail.Name, mail)
	})
	return token, err
}

// createBookingLink is NewBookingLink inside the transaction tx, for a
// link made with the change that offers it.
func (s *Store) createBookingLink(tx *gorm.DB, spec models.LinkSpec) (*models.BookingLink, string, error) {
	now := s.txNow(tx)
	if spec.Uses == 0 {
		spec.Uses = 1
	}
	if spec.ExpiresAt.IsZero() {
		spec.ExpiresAt = now.Add(models.DefaultLinkLife)
	}
	token := RandomToken(16)
	l := &models.BookingLink{TokenHash: hashToken(token), RoleSlug: spec.RoleSlug, CallID: spec.CallID, LeadID: spec.LeadID,
		UsesLeft: spec.Uses, ExpiresAt: spec.ExpiresAt.UTC(), CreatedByID: spec.CreatedBy, CreatedAt: now}
	if err := tx.Create(l).Error; err != nil {
		return nil, "", err
	}
	details := map[string]any{"role_slug": l.RoleSlug, "call": l.CallID, "uses": l.UsesLeft, "expires_at": l.ExpiresAt}
	if l.LeadID != nil {
		details["lead_id"] = *l.LeadID
	}
	if err := s.audit(tx, models.AuditLinkCreated, models.AuditTarget{Type: models.AuditTargetLink, ID: l.ID}, details); err != nil {
		return nil, "", err
	}
	return l, token, nil
}

// OpenBookingLink finds a private link by its token: ErrNotFound for a
// token never made, ErrLinkUsed for one used up, expired or deleted.
func (s *Store) OpenBookingLink(ctx context.Context, token string) (*models.BookingLink, error) {
	var l models.BookingLink
	err := s.read.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Take(&l).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, models.ErrNotFound
	case err != nil:
		return nil, err
	case !l.Usable(s.Now()):
		return &l, models.ErrLinkUsed
	}
	return &l, nil
}

// useBookingLink takes one use of the link with token in the booking's
// transaction: the row's conditional update is what lets two racing
// bookings on a one-use link make one call. ErrLinkUsed when none is left.
func (s *Store) useBookingLink(tx *gorm.DB, token string) (uint, error) {
	now := s.txNow(tx)
	res := tx.Model(&models.BookingLink{}).
		Where("token_hash = ? AND uses_left > 0 AND deleted_at IS NULL AND expires_at > ?", hashToken(token), now).
		Update("uses_left", gorm.Expr("uses_left - 1"))
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected == 0 {
		return 0, models.ErrLinkUsed
	}
	var id uint
	err := tx.Model(&models.BookingLink{}).Where("token_hash = ?", hashToken(token)).Pluck("id", &id).Error
	return id, err
}

// BookingLinks lists private links, newest first: a lead's (leadID not
// nil) or all.
func (s *Store) BookingLinks(ctx context.Context, leadID *uint) ([]models.BookingLink, error) {
	q := s.read.WithContext(ctx).Order("id DESC").Limit(200)
	if leadID != nil {
		q = q.Where("lead_id = ?", *leadID)
	}
	var out []models.BookingLink
	return out, q.Find(&out).Error
}

// DeleteBookingLink withdraws a link: it answers as used from then on.
func (s *Store) DeleteBookingLink(ctx context.Context, id uint) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.BookingLink{}).Where("id = ? AND deleted_at IS NULL", id).Update("deleted_at", s.txNow(tx))
		if res.Error == nil && res.RowsAffected == 0 {
			return models.ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return s.audit(tx, models.AuditLinkDeleted, models.AuditTarget{Type: models.AuditTargetLink, ID: id}, nil)
	})
}
