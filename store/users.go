package store

import (
	"context"
	_ "embed" // the common-password list
	"errors"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// CreateUser creates a staff user who can sign in with n.Password (hashed
// with bcrypt; the password itself is never stored). A host starts with the
// default weekly hours. An email already in use is a ValidationError.
func (s *Store) CreateUser(ctx context.Context, n models.NewUser) (*models.User, error) {
	email, name, err := n.Validate()
	if err != nil {
		return nil, err
	}
	if _, err := s.UserByEmail(ctx, email); err == nil {
		return nil, models.Invalid("email", "is already a staff user")
	}
	hash, err := models.HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	u := &models.User{Email: email, Name: name, Role: n.Role, Host: n.Host, PasswordHash: hash, WeeklyJSON: "{}"}
	if n.Host {
		u.WeeklyJSON = encodeJSON(models.DefaultWeekly().ToJSON())
	}
	actor := n.Actor
	if actor == "" {
		actor = models.ActorSystem
	}
	if err := s.tx(ctx, func(tx *gorm.DB) error { return s.insertUser(tx, u, actor) }); err != nil {
		return nil, err
	}
	return u, nil
}

// insertUser writes a new staff user and its user.created event in tx; a
// host also changes what is offered. An email already taken is a 422.
func (s *Store) insertUser(tx *gorm.DB, u *models.User, actor string) error {
	if err := tx.Create(u).Error; err != nil {
		if isUniqueViolation(err) {
			return models.Invalid("email", "is already a staff user")
		}
		return err
	}
	if err := s.addEvent(tx, 0, 0, "user.created", actor, map[string]any{
		"user_id": u.ID, "role": u.Role, "host": u.Host}); err != nil {
		return err
	}
	if err := s.audit(tx, models.AuditUserCreated, models.AuditTarget{Type: models.AuditTargetUser, ID: u.ID},
		map[string]any{"email": u.Email, "name": u.Name, "role": u.Role, "host": u.Host}); err != nil {
		return err
	}
	if u.Host {
		return s.bumpAvailability(tx)
	}
	return nil
}

// SetPassword gives the user with email a new password, after the rules of
// CheckPassword, signs them out everywhere and, when asked, revokes their
// API tokens, in one transaction. It returns how many tokens it revoked.
// ErrNotFound when no staff user has that email.
func (s *Store) SetPassword(ctx context.Context, email string, ch models.PasswordChange) (int, error) {
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		return 0, err
	}
	return s.changePassword(ctx, u, ch)
}

// SetUserPassword is SetPassword for the user with id (the staff page).
func (s *Store) SetUserPassword(ctx context.Context, id uint, ch models.PasswordChange) (int, error) {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return 0, err
	}
	return s.changePassword(ctx, u, ch)
}

func (s *Store) changePassword(ctx context.Context, u *models.User, ch models.PasswordChange) (revoked int, err error) {
	ctx, now := s.withTxNow(ctx)
	if err := models.CheckPassword(ch.Password, u.Email, u.Name); err != nil {
		return 0, err
	}
	hash, err := models.HashPassword(ch.Password)
	if err != nil {
		return 0, err
	}
	actor := ch.Actor
	if actor == "" {
		actor = models.ActorSystem
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(map[string]any{
			"password_hash": hash, "failed_logins": 0, "locked_until": nil, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", u.ID).Delete(&models.Session{}).Error; err != nil {
			return err
		}
		revoked = 0
		if ch.RevokeTokens {
			res := tx.Model(&models.APIToken{}).Where("user_id = ? AND revoked_at IS NULL", u.ID).Update("revoked_at", now)
			if res.Error != nil {
				return res.Error
			}
			revoked = int(res.RowsAffected)
		}
		if err := s.addEvent(tx, 0, 0, "user.password_changed", actor, map[string]any{
			"user_id": u.ID, "tokens_revoked": revoked}); err != nil {
			return err
		}
		return s.audit(tx, models.AuditUserPasswordChanged, models.AuditTarget{Type: models.AuditTargetUser, ID: u.ID},
			map[string]any{"tokens_revoked": revoked})
	})
	return revoked, err
}

// LiveTokenCount is how many API tokens of user id still work.
func (s *Store) LiveTokenCount(ctx context.Context, id uint) (int, error) {
	var n int64
	err := s.read.WithContext(ctx).Model(&models.APIToken{}).Where("user_id = ? AND revoked_at IS NULL", id).Count(&n).Error
	return int(n), err
}

// UserByEmail finds a staff user by email, compared without case and
// surrounding spaces. ErrNotFound when there is none.
func (s *Store) UserByEmail(ctx context.Context, email string) (*models.User, error) {
	return s.findUser(s.read.WithContext(ctx).Where("email = ?", models.NormalizeEmail(email)))
}

// UserByID returns one staff user, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id uint) (*models.User, error) {
	return s.findUser(s.read.WithContext(ctx).Where("id = ?", id))
}

func (s *Store) findUser(q *gorm.DB) (*models.User, error) {
	var u models.User
	err := q.Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ListUsers returns every user (staff and hosts, enabled or not) by id.
func (s *Store) ListUsers(ctx context.Context) ([]models.User, error) {
	us := []models.User{}
	err := s.read.WithContext(ctx).Order("id").Find(&us).Error
	return us, err
}

// StaffUsers returns the users who can own leads: enabled, with a password
// to sign in with, by name.
func (s *Store) StaffUsers(ctx context.Context) ([]models.User, error) {
	us := []models.User{}
	err := s.read.WithContext(ctx).Where("disabled = ? AND password_hash <> ''", false).
		Order("name, id").Find(&us).Error
	return us, err
}

// AdminExists reports whether an enabled admin exists.
func (s *Store) AdminExists(ctx context.Context) (bool, error) {
	var n int64
	err := s.read.WithContext(ctx).Model(&models.User{}).Where("role = ? AND disabled = ?", models.RoleAdmin, false).Count(&n).Error
	return n > 0, err
}

// EnsureFirstAdmin creates an admin (not a host) with email and password
// when no enabled admin exists, and reports whether it did. When a user
// with that email exists already, it is made an admin with that password.
// With an admin in place it changes nothing, whatever the arguments.
//
// Replicas started together with the same settings all call it at once:
// the check and the write are one transaction, and on PostgreSQL those
// transactions take turns on an advisory lock (SQLite's single writer does
// that by itself), so exactly one admin is created and every caller
// succeeds.
func (s *Store) EnsureFirstAdmin(ctx context.Context, email, password string) (bool, error) {
	// A cheap look first: with an admin in place (every start but the
	// first) nothing is hashed. The transaction below checks again.
	if ok, err := s.AdminExists(ctx); err != nil || ok {
		return false, err
	}
	n := models.NewUser{Email: email, Name: "Administrator", Role: models.RoleAdmin, Password: password}
	existing, err := s.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, models.ErrNotFound):
		if email, _, err = n.Validate(); err != nil {
			return false, err
		}
	case err != nil:
		return false, err
	default:
		email = existing.Email
		if err := models.CheckPassword(password, existing.Email, existing.Name); err != nil {
			return false, err
		}
	}
	hash, err := models.HashPassword(password) // slow: outside the transaction
	if err != nil {
		return false, err
	}
	var created bool
	err = s.tx(ctx, func(tx *gorm.DB) error {
		created = false
		if s.dialect == DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(4242008)").Error; err != nil {
				return err
			}
		}
		var admins int64
		if err := tx.Model(&models.User{}).Where("role = ? AND disabled = ?", models.RoleAdmin, false).Count(&admins).Error; err != nil || admins > 0 {
			return err
		}
		var u models.User
		err := tx.Where("email = ?", email).Take(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			u = models.User{Email: email, Name: n.Name, Role: models.RoleAdmin, PasswordHash: hash, WeeklyJSON: "{}"}
			if err := s.insertUser(tx, &u, models.ActorSystem); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(map[string]any{
				"role": models.RoleAdmin, "disabled": false, "password_hash": hash, "updated_at": s.txNow(tx),
			}).Error; err != nil {
				return err
			}
			if err := s.auditFirstAdmin(tx, &u); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	return created && err == nil, err
}

// auditFirstAdmin records that the existing user u was made the first
// admin, with a new password, at start.
func (s *Store) auditFirstAdmin(tx *gorm.DB, u *models.User) error {
	target := models.AuditTarget{Type: models.AuditTargetUser, ID: u.ID}
	if u.Role != models.RoleAdmin {
		if err := s.audit(tx, models.AuditUserRoleChanged, target, map[string]any{"from": u.Role, "to": models.RoleAdmin}); err != nil {
			return err
		}
	}
	if u.Disabled {
		if err := s.audit(tx, models.AuditUserEnabled, target, nil); err != nil {
			return err
		}
	}
	return s.audit(tx, models.AuditUserPasswordChanged, target, map[string]any{"tokens_revoked": 0})
}
