package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// apiTokenPrefix starts every API token, so a leaked one is easy to
// recognize in logs and secret scanners.
const apiTokenPrefix = "cbk_"

// tokenTouchEvery bounds how often a token's last-used time is written, so
// a busy integration does not turn every read into a write.
const tokenTouchEvery = time.Minute

// CreateAPIToken makes a new API token for user userID, labelled name, and
// returns it. Only its SHA-256 hash is stored: this is the one time the
// token can be seen. A disabled user gets a ValidationError.
func (s *Store) CreateAPIToken(ctx context.Context, userID uint, name string) (string, *models.APIToken, error) {
	ctx, now := s.withTxNow(ctx)
	verr := &models.ValidationError{}
	name = models.CheckText(verr, "name", name, 1, 120)
	if err := verr.Err(); err != nil {
		return "", nil, err
	}
	token := apiTokenPrefix + RandomToken(32)
	row := &models.APIToken{UserID: userID, Name: name, TokenHash: hashToken(token), CreatedAt: now}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var u models.User
		if err := tx.Where("id = ?", userID).Take(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		if u.Disabled {
			return models.Invalid("email", "this user is disabled")
		}
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		return s.audit(tx, models.AuditTokenCreated, models.AuditTarget{Type: models.AuditTargetToken, ID: row.ID},
			map[string]any{"user_id": userID, "name": name})
	})
	if err != nil {
		return "", nil, err
	}
	return token, row, nil
}

// UserByAPIToken returns the enabled user a live (not revoked) token
// belongs to and records when it was last used. Any miss is ErrNotFound,
// saying nothing about why.
func (s *Store) UserByAPIToken(ctx context.Context, token string) (*models.User, error) {
	ctx, now := s.withTxNow(ctx)
	if !strings.HasPrefix(token, apiTokenPrefix) || len(token) > 200 {
		return nil, models.ErrNotFound
	}
	var row models.APIToken
	err := s.read.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hashToken(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u, err := s.UserByID(ctx, row.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, models.ErrNotFound
	}
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= tokenTouchEvery {
		err := s.tx(ctx, func(tx *gorm.DB) error {
			return tx.Model(&models.APIToken{}).Where("id = ?", row.ID).Update("last_used_at", now).Error
		})
		if err != nil {
			return nil, err
		}
	}
	return u, nil
}

// ListAPITokens returns every live token with its owner, newest first.
func (s *Store) ListAPITokens(ctx context.Context) ([]models.APITokenRow, error) {
	rows := []models.APITokenRow{}
	err := s.read.WithContext(ctx).Table("api_tokens").
		Select("api_tokens.*, u.name AS user_name, u.email AS user_email").
		Joins("JOIN users u ON u.id = api_tokens.user_id").
		Where("api_tokens.revoked_at IS NULL").Order("api_tokens.id DESC").Scan(&rows).Error
	return rows, err
}

// RevokeAPIToken stops token id from working, on behalf of actor.
// ErrNotFound when there is no live token with that id.
func (s *Store) RevokeAPIToken(ctx context.Context, id uint, actor *models.User) error {
	return s.tx(withUserActor(ctx, actor), func(tx *gorm.DB) error {
		var tok models.APIToken
		if err := tx.Select("user_id").Where("id = ?", id).Take(&tok).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		res := tx.Model(&models.APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.txNow(tx))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrNotFound
		}
		if err := s.addEvent(tx, 0, 0, "token.revoked", actorName(actor), map[string]any{"token_id": id}); err != nil {
			return err
		}
		return s.audit(tx, models.AuditTokenRevoked, models.AuditTarget{Type: models.AuditTargetToken, ID: id},
			map[string]any{"user_id": tok.UserID})
	})
}
