package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// BookingToken derives the visitor's secret token for a booking from its UID
// and the service secret: 256 bits no one without the secret can compute, so
// the database keeps only its hash yet emails sent later can carry the link.
func (s *Store) BookingToken(uid string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("callbook booking token v1\x00" + uid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// BookingByToken finds a booking by its visitor token. Any miss is
// ErrNotFound, saying nothing about whether the token ever existed.
func (s *Store) BookingByToken(ctx context.Context, token string) (*models.Booking, error) {
	if len(token) < 20 || len(token) > 100 {
		return nil, models.ErrNotFound
	}
	want := hashToken(token)
	var b models.Booking
	err := s.read.WithContext(ctx).Where("token_hash = ?", want).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(b.TokenHash), []byte(want)) != 1 {
		return nil, models.ErrNotFound
	}
	return &b, nil
}

// BookingHost returns the host of a booking.
func (s *Store) BookingHost(ctx context.Context, b *models.Booking) (*models.User, error) {
	var u models.User
	if err := s.read.WithContext(ctx).Where("id = ?", b.HostID).Take(&u).Error; err != nil {
		return nil, err
	}
	return &u, nil
}

// LeadByID returns one lead.
func (s *Store) LeadByID(ctx context.Context, id uint) (*models.Lead, error) {
	var l models.Lead
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &l, err
}

// MailDataFor snapshots booking b as an email of kind would see it; the
// handlers use it for invite.ics.
func (s *Store) MailDataFor(ctx context.Context, b *models.Booking, kind string) (models.MailData, error) {
	db := s.read.WithContext(ctx)
	var l models.Lead
	if err := db.Where("id = ?", b.LeadID).Take(&l).Error; err != nil {
		return models.MailData{}, err
	}
	var h models.User
	if err := db.Where("id = ?", b.HostID).Take(&h).Error; err != nil {
		return models.MailData{}, err
	}
	d := s.bookingMail(kind, b, &l, &h)
	d.Reason = b.CancelReason
	return d, nil
}

// HostName returns the name of the host of a booking, or "" when that user
// is gone.
func (s *Store) HostName(ctx context.Context, hostID uint) (string, error) {
	var names []string
	err := s.read.WithContext(ctx).Model(&models.User{}).Where("id = ?", hostID).Limit(1).Pluck("name", &names).Error
	if err != nil || len(names) == 0 {
		return "", err
	}
	return names[0], nil
}

// HashString returns the hex SHA-256 of s.
func HashString(s string) string { return hashToken(s) }
