package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// totpSealPurpose keys the sealing of authenticator-app secrets; the
// user's id is the sealed value's context, so a secret copied onto another
// user's row does not open.
const totpSealPurpose = "totp secret"

func totpContext(userID uint) string { return "user " + strconv.FormatUint(uint64(userID), 10) }

// BeginTOTP keeps secret (base32) as userID's authenticator app waiting
// for its first code, replacing one that was waiting. A user whose app is
// already confirmed must remove it first: models.ErrTOTPExists.
func (s *Store) BeginTOTP(ctx context.Context, userID uint, secret string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.TOTPFactor{}).Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.ErrTOTPExists
		}
		if err := tx.Where("user_id = ?", userID).Delete(&models.TOTPFactor{}).Error; err != nil {
			return err
		}
		return tx.Create(&models.TOTPFactor{UserID: userID, Secret: s.sealSecret(totpSealPurpose, totpContext(userID), secret),
			CreatedAt: s.txNow(tx)}).Error
	})
}

// PendingTOTPSecret returns the secret of userID's app still waiting for
// its first code, or ErrNoPendingTOTP.
func (s *Store) PendingTOTPSecret(ctx context.Context, userID uint) (string, error) {
	var f models.TOTPFactor
	err := s.read.WithContext(ctx).Where("user_id = ? AND confirmed_at IS NULL", userID).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", models.ErrNoPendingTOTP
	}
	if err != nil {
		return "", err
	}
	return s.openSecret(totpSealPurpose, totpContext(userID), f.Secret)
}

// ConfirmTOTP confirms userID's waiting app with its first code and
// returns RecoveryCodeCount new recovery codes, replacing any earlier
// ones: the only time they exist in clear. The code's step counts as used.
// A wrong code is ErrBadCode and changes nothing.
func (s *Store) ConfirmTOTP(ctx context.Context, userID uint, code string) ([]string, error) {
	var codes []string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var f models.TOTPFactor
		err := tx.Where("user_id = ? AND confirmed_at IS NULL", userID).Take(&f).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNoPendingTOTP
		}
		if err != nil {
			return err
		}
		secret, err := s.openSecret(totpSealPurpose, totpContext(userID), f.Secret)
		if err != nil {
			return err
		}
		now := s.txNow(tx)
		step, ok := models.TOTPStep(secret, code, now)
		if !ok {
			return models.ErrBadCode
		}
		res := tx.Model(&models.TOTPFactor{}).Where("user_id = ? AND confirmed_at IS NULL", userID).
			Updates(map[string]any{"confirmed_at": now, "last_step": step})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return models.ErrNoPendingTOTP
		}
		if codes, err = replaceRecoveryCodes(tx, userID, now); err != nil {
			return err
		}
		return s.auditFactor(tx, models.AuditFactorAdded, userID, "totp", "")
	})
	return codes, err
}

// RemoveTOTP removes userID's authenticator app, confirmed or waiting,
// and its recovery codes. Passkeys stay.
func (s *Store) RemoveTOTP(ctx context.Context, userID uint) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("user_id = ?", userID).Delete(&models.TOTPFactor{})
		if res.Error != nil {
			return res.Error
		}
		if err := tx.Where("user_id = ?", userID).Delete(&models.RecoveryCode{}).Error; err != nil || res.RowsAffected == 0 {
			return err
		}
		return s.auditFactor(tx, models.AuditFactorRemoved, userID, "totp", "")
	})
}

// NewRecoveryCodes replaces userID's recovery codes with new ones and
// returns them, once; the user must have a confirmed app.
func (s *Store) NewRecoveryCodes(ctx context.Context, userID uint) ([]string, error) {
	var codes []string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.TOTPFactor{}).Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return models.ErrNotFound
		}
		var err error
		if codes, err = replaceRecoveryCodes(tx, userID, s.txNow(tx)); err != nil {
			return err
		}
		return s.audit(tx, models.AuditRecoveryCodesRenewed, models.AuditTarget{Type: models.AuditTargetUser, ID: userID}, nil)
	})
	return codes, err
}

// replaceRecoveryCodes deletes userID's recovery codes and stores the
// hashes of RecoveryCodeCount new ones, which it returns.
func replaceRecoveryCodes(tx *gorm.DB, userID uint, now time.Time) ([]string, error) {
	if err := tx.Where("user_id = ?", userID).Delete(&models.RecoveryCode{}).Error; err != nil {
		return nil, err
	}
	codes := make([]string, models.RecoveryCodeCount)
	rows := make([]models.RecoveryCode, models.RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		rows[i] = models.RecoveryCode{UserID: userID, CodeHash: hashToken(models.NormalizeCode(codes[i])), CreatedAt: now}
	}
	return codes, tx.Create(&rows).Error
}

// newRecoveryCode is 80 random bits as four groups of four letters and
// digits: "k3xq-7mdp-a2ht-9wzc".
func newRecoveryCode() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	s := strings.ToLower(base32.StdEncoding.EncodeToString(b))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// VerifySecondFactor checks the code u typed after their password: the
// current authenticator-app code or an unused recovery code. Like a
// password it goes through the sign-in throttle first (ReserveSignIn under
// u's email and ip), so wrong codes and wrong passwords share one limit;
// a code is accepted once (useSecondFactorCode), and success forgives the
// failures. A wrong or used code is ErrBadCode.
func (s *Store) VerifySecondFactor(ctx context.Context, u *models.User, code, ip string) error {
	email, ip := signInKey(u.Email, ip)
	if err := s.ReserveSignIn(ctx, email, ip); err != nil {
		return err
	}
	ok, err := s.useSecondFactorCode(ctx, u.ID, code)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.countLoginFailure(ctx, email, ip, "bad_code", u); err != nil {
			return err
		}
		return models.ErrBadCode
	}
	return s.ForgiveSignIn(ctx, email, ip)
}

// useSecondFactorCode marks code used, in one transaction: an app code
// raises the app's last used step to the code's, only when it is higher,
// so the same code (or an older one) is refused even when two requests
// send it at once; a recovery code gets its used time, only while it has
// none.
func (s *Store) useSecondFactorCode(ctx context.Context, userID uint, code string) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.txNow(tx)
		var f models.TOTPFactor
		err := tx.Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Take(&f).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if err == nil {
			secret, err := s.openSecret(totpSealPurpose, totpContext(userID), f.Secret)
			if err != nil {
				return err
			}
			if step, match := models.TOTPStep(secret, code, now); match {
				res := tx.Model(&models.TOTPFactor{}).Where("user_id = ? AND last_step < ?", userID, step).Update("last_step", step)
				ok = res.RowsAffected == 1
				return res.Error
			}
		}
		norm := models.NormalizeCode(code)
		if len(norm) != 16 {
			return nil
		}
		res := tx.Model(&models.RecoveryCode{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hashToken(norm)).
			Update("used_at", now)
		ok = res.RowsAffected == 1
		return res.Error
	})
	return ok, err
}
