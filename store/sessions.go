package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// Session lifetimes. A session ends after SessionIdle without a request,
// and after SessionAbsolute whatever happens.
const (
	SessionIdle     = 12 * time.Hour
	SessionAbsolute = 7 * 24 * time.Hour
	// sessionTouchEvery bounds how often a session's expiry is slid forward,
	// so browsing the staff area does not write on every request.
	sessionTouchEvery = time.Minute
)

// dummyHash is a bcrypt hash (PasswordCost) of a random string. Checking a
// password against it when the email is unknown makes that answer take as
// long as a known email's, so timing does not reveal which emails exist.
const dummyHash = "$2a$12$msYKWAmUnwvblTVUm/MQSu4ptBVgR.tlafmWDOhg3igkZoXA3x1oK"

// Authenticate checks a staff sign-in. It refuses with *ThrottledError,
// before looking at the password, when a sign-in limit is reached (see
// models.SignInLimits); otherwise it records the attempt as a failure
// first (ReserveSignIn), then checks the password, at most a few at a
// time across the process. It answers ErrBadCredentials when the email is
// unknown, the password wrong, the user disabled or without a password;
// on success it forgives the account's failures from this address
// (ForgiveSignIn).
func (s *Store) Authenticate(ctx context.Context, email, password, ip string) (*models.User, error) {
	email, ip = signInKey(email, ip)
	if err := s.ReserveSignIn(ctx, email, ip); err != nil {
		return nil, err
	}
	u, err := s.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	hash := dummyHash
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	match, err := s.passwords.check(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if u == nil || u.PasswordHash == "" || u.Disabled || !match {
		if err := s.countLoginFailure(ctx, email, ip, "bad_credentials", u); err != nil {
			return nil, err
		}
		return nil, models.ErrBadCredentials
	}
	if err := s.ForgiveSignIn(ctx, email, ip); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateSession starts a new session for user u, with a fresh random id
// (so no id chosen before sign-in survives it) and its own CSRF token, and
// writes the signin.succeeded audit entry in the same transaction, with the
// sign-in's method (WithSignInMethod; "password" when not told).
func (s *Store) CreateSession(ctx context.Context, u *models.User, ip, userAgent string) (*models.NewSession, error) {
	ctx, now := s.withTxNow(ctx)
	token := RandomToken(32)
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	if len(ip) > 64 {
		ip = ip[:64]
	}
	row := &models.Session{
		ID: hashToken(token), UserID: u.ID, CSRFToken: RandomToken(32), IP: ip, UserAgent: userAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionIdle),
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		if err := tx.Where("expires_at < ?", now).Delete(&models.Session{}).Error; err != nil {
			return err
		}
		return s.auditAs(tx, models.UserActor(u, ip), models.AuditSignInSucceeded,
			models.AuditTarget{Type: models.AuditTargetUser, ID: u.ID}, map[string]any{"method": signInMethod(ctx)})
	})
	if err != nil {
		return nil, err
	}
	return &models.NewSession{Token: token, Session: row}, nil
}

// SessionUser returns the live session for a cookie token and its enabled
// user, sliding the idle expiry forward (never past the absolute limit).
// An unknown, idle, too old or disabled user's session is ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, token string) (*models.Session, *models.User, error) {
	if len(token) != 64 {
		return nil, nil, models.ErrNotFound
	}
	now := s.Now()
	var sess models.Session
	err := s.read.WithContext(ctx).Where("id = ?", hashToken(token)).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, models.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.CreatedAt.Add(SessionAbsolute)) {
		return nil, nil, models.ErrNotFound
	}
	u, err := s.UserByID(ctx, sess.UserID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && (u.Disabled || u.PasswordHash == "")) {
		return nil, nil, models.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.touchSession(ctx, &sess, now); err != nil {
			return nil, nil, err
		}
	}
	return &sess, u, nil
}

func (s *Store) touchSession(ctx context.Context, sess *models.Session, now time.Time) error {
	exp := now.Add(SessionIdle)
	if abs := sess.CreatedAt.Add(SessionAbsolute); exp.After(abs) {
		exp = abs
	}
	sess.LastSeenAt, sess.ExpiresAt = now, exp
	return s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&models.Session{}).Where("id = ?", sess.ID).
			Updates(map[string]any{"last_seen_at": now, "expires_at": exp}).Error
	})
}

// DeleteSession ends the session of a cookie token; an unknown token is
// not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Where("id = ?", hashToken(token)).Delete(&models.Session{}).Error
	})
}

type signInMethodKey struct{}

// WithSignInMethod tells CreateSession how the user signed in ("password",
// "passkey", "sso", ...), for the audit entry.
func WithSignInMethod(ctx context.Context, method string) context.Context {
	return context.WithValue(ctx, signInMethodKey{}, method)
}

func signInMethod(ctx context.Context) string {
	if m, ok := ctx.Value(signInMethodKey{}).(string); ok && m != "" {
		return m
	}
	return "password"
}
