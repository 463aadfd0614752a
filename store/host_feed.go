package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// feedToken derives a host's feed token from its feed key: 256 bits that
// only the service secret turns a stored key into.
func (s *Store) feedToken(key string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("callbook host feed v1\x00" + key))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// HostFeedToken returns host hostID's private feed token, creating it on
// first use. ErrNotFound when hostID is not a host.
func (s *Store) HostFeedToken(ctx context.Context, hostID uint) (string, error) {
	var f models.HostFeed
	err := s.read.WithContext(ctx).Where("host_id = ?", hostID).Limit(1).Find(&f).Error
	if err != nil {
		return "", err
	}
	if f.FeedKey != "" {
		return s.feedToken(f.FeedKey), nil
	}
	return s.setFeedKey(ctx, hostID, false)
}

// ReplaceHostFeedToken gives host hostID a new feed token; the old one
// stops working at once.
func (s *Store) ReplaceHostFeedToken(ctx context.Context, hostID uint) (string, error) {
	return s.setFeedKey(ctx, hostID, true)
}

func (s *Store) setFeedKey(ctx context.Context, hostID uint, replace bool) (string, error) {
	var token string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireHost(tx, hostID); err != nil {
			return err
		}
		var f models.HostFeed
		if err := tx.Where("host_id = ?", hostID).Limit(1).Find(&f).Error; err != nil {
			return err
		}
		if f.FeedKey != "" && !replace {
			token = s.feedToken(f.FeedKey) // created by a concurrent first use
			return nil
		}
		key := RandomToken(16)
		token = s.feedToken(key)
		if replace {
			if err := s.audit(tx, models.AuditFeedLinkReplaced, models.AuditTarget{Type: models.AuditTargetUser, ID: hostID}, nil); err != nil {
				return err
			}
		}
		if f.FeedKey != "" {
			return tx.Model(&models.HostFeed{}).Where("host_id = ?", hostID).
				Updates(map[string]any{"feed_key": key, "token_hash": hashToken(token), "created_at": s.txNow(tx)}).Error
		}
		return tx.Create(&models.HostFeed{HostID: hostID, FeedKey: key, TokenHash: hashToken(token), CreatedAt: s.txNow(tx)}).Error
	})
	return token, err
}

// HostByFeedToken finds the host whose feed token is token. Any miss is
// ErrNotFound.
func (s *Store) HostByFeedToken(ctx context.Context, token string) (*models.User, error) {
	if len(token) < 20 || len(token) > 100 {
		return nil, models.ErrNotFound
	}
	db := s.read.WithContext(ctx)
	var f models.HostFeed
	if err := db.Where("token_hash = ?", hashToken(token)).Take(&f).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, models.ErrNotFound
		}
		return nil, err
	}
	var u models.User
	if err := db.Where("id = ? AND host = ?", f.HostID, true).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, models.ErrNotFound
		}
		return nil, err
	}
	return &u, nil
}

// feedPast is how far back a host's feed keeps calls.
const feedPast = 60 * 24 * time.Hour

// HostFeedCalls lists host hostID's calls that were not canceled, from 60
// days back on, in time order, with the visitor's name.
func (s *Store) HostFeedCalls(ctx context.Context, hostID uint) ([]models.FeedCall, error) {
	db := s.read.WithContext(ctx)
	var bs []models.Booking
	if err := db.Where("host_id = ? AND status <> ? AND start_at >= ?", hostID, models.BookingCanceled, s.Now().Add(-feedPast)).
		Order("start_at").Limit(5000).Find(&bs).Error; err != nil {
		return nil, err
	}
	ids := make([]uint, 0, len(bs))
	for _, b := range bs {
		ids = append(ids, b.LeadID)
	}
	leads := map[uint]models.Lead{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var rows []models.Lead
		if err := db.Select("id, name, phone").Where("id IN ?", ids[:n]).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, l := range rows {
			leads[l.ID] = l
		}
		ids = ids[n:]
	}
	out := make([]models.FeedCall, len(bs))
	for i, b := range bs {
		l := leads[b.LeadID]
		out[i] = models.FeedCall{Booking: b, LeadID: b.LeadID, Name: l.Name, Location: s.BookingMeeting(&bs[i]).Location(l.Phone)}
	}
	return out, nil
}
