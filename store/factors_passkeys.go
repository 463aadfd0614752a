package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// AddPasskey keeps a new passkey of userID: credentialID (base64url) and
// the credential's record as JSON, under name.
func (s *Store) AddPasskey(ctx context.Context, userID uint, name, credentialID, credential string) (*models.Passkey, error) {
	name, err := models.CheckPasskeyName(name)
	if err != nil {
		return nil, err
	}
	p := &models.Passkey{UserID: userID, Name: name, CredentialID: credentialID, Credential: credential}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		p.CreatedAt = s.txNow(tx)
		if err := tx.Create(p).Error; err != nil {
			return err
		}
		return s.auditFactor(tx, models.AuditFactorAdded, userID, "passkey", name)
	})
	return p, err
}

// RenamePasskey gives userID's passkey id a new name; another user's
// passkey is ErrNotFound.
func (s *Store) RenamePasskey(ctx context.Context, userID, id uint, name string) error {
	name, err := models.CheckPasskeyName(name)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.Passkey{}).Where("id = ? AND user_id = ?", id, userID).Update("name", name)
		if res.Error == nil && res.RowsAffected == 0 {
			return models.ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return s.auditFactor(tx, models.AuditFactorRenamed, userID, "passkey", name)
	})
}

// RemovePasskey deletes userID's passkey id: it no longer signs in.
func (s *Store) RemovePasskey(ctx context.Context, userID, id uint) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var p models.Passkey
		if err := tx.Select("name").Where("id = ? AND user_id = ?", id, userID).Limit(1).Find(&p).Error; err != nil {
			return err
		}
		res := tx.Where("id = ? AND user_id = ?", id, userID).Delete(&models.Passkey{})
		if res.Error == nil && res.RowsAffected == 0 {
			return models.ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return s.auditFactor(tx, models.AuditFactorRemoved, userID, "passkey", p.Name)
	})
}

// UsePasskey records a sign-in with passkey id: its updated record (the
// authenticator's signature counter) and when.
func (s *Store) UsePasskey(ctx context.Context, id uint, credential string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&models.Passkey{}).Where("id = ?", id).
			Updates(map[string]any{"credential": credential, "last_used_at": s.txNow(tx)}).Error
	})
}

// Passkeys lists userID's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, userID uint) ([]models.Passkey, error) {
	var out []models.Passkey
	err := s.read.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&out).Error
	return out, err
}

// PasskeyByCredentialID returns the passkey of a credential id, or
// ErrNotFound (for instance after it was removed).
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID string) (*models.Passkey, error) {
	var p models.Passkey
	err := s.read.WithContext(ctx).Where("credential_id = ?", credentialID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &p, err
}

// SecondFactors says what userID has set up.
func (s *Store) SecondFactors(ctx context.Context, userID uint) (models.SecondFactors, error) {
	var out models.SecondFactors
	var apps []models.TOTPFactor
	db := s.read.WithContext(ctx)
	if err := db.Where("user_id = ?", userID).Find(&apps).Error; err != nil {
		return out, err
	}
	for _, a := range apps {
		out.TOTP = a.ConfirmedAt != nil
		out.TOTPPending = a.ConfirmedAt == nil
	}
	var left int64
	if err := db.Model(&models.RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&left).Error; err != nil {
		return out, err
	}
	out.RecoveryLeft = int(left)
	var err error
	out.Passkeys, err = s.Passkeys(ctx, userID)
	return out, err
}

// HasSecondFactor reports whether userID has a confirmed authenticator
// app or a passkey, in one query (it runs on every staff page of a user
// who must have one).
func (s *Store) HasSecondFactor(ctx context.Context, userID uint) (bool, error) {
	var n int64
	err := s.read.WithContext(ctx).Raw(`SELECT (SELECT COUNT(*) FROM totp_factors WHERE user_id = ? AND confirmed_at IS NOT NULL)
		+ (SELECT COUNT(*) FROM passkeys WHERE user_id = ?)`, userID, userID).Scan(&n).Error
	return n > 0, err
}

// ResetSecondFactors removes every second factor of the user of email:
// the authenticator app, the recovery codes and the passkeys, and any
// sign-in waiting for a code. It returns ErrNotFound for an unknown email.
func (s *Store) ResetSecondFactors(ctx context.Context, email string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var u models.User
		err := tx.Where("email = ?", models.NormalizeEmail(email)).Take(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, m := range []any{&models.TOTPFactor{}, &models.RecoveryCode{}, &models.Passkey{}, &models.SignInChallenge{}} {
			if err := tx.Where("user_id = ?", u.ID).Delete(m).Error; err != nil {
				return err
			}
		}
		return s.audit(tx, models.AuditFactorsReset, models.AuditTarget{Type: models.AuditTargetUser, ID: u.ID}, nil)
	})
}

// auditFactor records a change to a second factor of userID: which kind
// ("totp", "passkey") and, for a passkey, its name.
func (s *Store) auditFactor(tx *gorm.DB, action string, userID uint, factor, name string) error {
	d := map[string]any{"factor": factor}
	if name != "" {
		d["name"] = name
	}
	return s.audit(tx, action, models.AuditTarget{Type: models.AuditTargetUser, ID: userID}, d)
}
