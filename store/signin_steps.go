package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// SignInStepTTL is how long a sign-in step (the code owed after a
// password, a passkey ceremony) stays open.
const SignInStepTTL = 5 * time.Minute

// StartSignInStep opens a step of purpose for userID (0: not known yet),
// remembering next and data, and returns the random token the browser
// holds for it; only the token's hash is stored. Expired steps are swept.
func (s *Store) StartSignInStep(ctx context.Context, purpose string, userID uint, next, data string) (string, error) {
	token := RandomToken(32)
	if len(next) > 2000 {
		next = ""
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.txNow(tx)
		if err := tx.Where("expires_at < ?", now).Delete(&models.SignInChallenge{}).Error; err != nil {
			return err
		}
		return tx.Create(&models.SignInChallenge{ID: hashToken(token), Purpose: purpose, UserID: userID, Next: next, Data: data,
			ExpiresAt: now.Add(SignInStepTTL), CreatedAt: now}).Error
	})
	return token, err
}

// SignInStep returns the open step of purpose for token, or
// ErrChallengeGone.
func (s *Store) SignInStep(ctx context.Context, token, purpose string) (*models.SignInChallenge, error) {
	if len(token) != 64 {
		return nil, models.ErrChallengeGone
	}
	var st models.SignInChallenge
	err := s.write.WithContext(ctx).Where("id = ? AND purpose = ?", hashToken(token), purpose).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !s.Now().Before(st.ExpiresAt)) {
		return nil, models.ErrChallengeGone
	}
	return &st, err
}

// FinishSignInStep closes the step of token: exactly one caller gets it
// back, whoever else tries at the same moment gets ErrChallengeGone, as
// does an expired step.
func (s *Store) FinishSignInStep(ctx context.Context, token, purpose string) (*models.SignInChallenge, error) {
	if len(token) != 64 {
		return nil, models.ErrChallengeGone
	}
	var st models.SignInChallenge
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Where("id = ? AND purpose = ?", hashToken(token), purpose).Take(&st).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrChallengeGone
		}
		if err != nil {
			return err
		}
		res := tx.Where("id = ?", st.ID).Delete(&models.SignInChallenge{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 || !s.txNow(tx).Before(st.ExpiresAt) {
			return models.ErrChallengeGone
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}
