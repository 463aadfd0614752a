package store

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// defaultPasswordChecks bounds the bcrypt checks running at once: half the
// CPUs, at least one. Each takes about 250 ms of one CPU, so a burst of
// sign-ins queues here instead of starving every other request.
func defaultPasswordChecks() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// passwordGate lets at most cap(ch) password checks run at once.
type passwordGate struct {
	ch      chan struct{}
	compare func(hash, pw []byte) error
}

func newPasswordGate(n int) passwordGate {
	if n <= 0 {
		n = defaultPasswordChecks()
	}
	return passwordGate{ch: make(chan struct{}, n), compare: bcrypt.CompareHashAndPassword}
}

// check compares pw with hash once a slot is free; it gives up, as a
// mismatch with ctx's error, when ctx ends first.
func (g passwordGate) check(ctx context.Context, hash, pw string) (bool, error) {
	select {
	case g.ch <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-g.ch }()
	return g.compare([]byte(hash), []byte(pw)) == nil, nil
}

// ReserveSignIn records one sign-in step (a password, a second-factor
// code) for the account email from address ip as failed, before it is
// checked, unless a limit of models.SignInLimits is reached: then it
// records nothing and returns *models.ThrottledError. The count and the
// record share one transaction (on PostgreSQL behind an advisory lock per
// account and per address), so concurrent guesses cannot all pass the
// count while the first are still being checked. Every step that checks a
// secret goes through here, so they share one throttle; ForgiveSignIn
// takes the failures back once the sign-in succeeds.
func (s *Store) ReserveSignIn(ctx context.Context, email, ip string) error {
	email, ip = signInKey(email, ip)
	wait, err := s.reserveLogin(ctx, email, ip)
	if err == nil && wait > 0 {
		err = &models.ThrottledError{RetryAfter: wait}
	}
	return err
}

// ForgiveSignIn deletes the failures of the account email from address
// ip (the owner's own typos, and the reservations of the sign-in that just
// succeeded) and clears the account's lock-out shown to admins. Failures
// from other addresses stay: they still count toward the account's limit,
// whoever signs in.
func (s *Store) ForgiveSignIn(ctx context.Context, email, ip string) error {
	email, ip = signInKey(email, ip)
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("email = ? AND ip = ?", email, ip).Delete(&models.LoginAttempt{}).Error; err != nil {
			return err
		}
		return tx.Model(&models.User{}).Where("email = ?", email).
			Updates(map[string]any{"failed_logins": 0, "locked_until": nil}).Error
	})
}

// signInKey is the account and address a sign-in is counted under: the
// normalised email and the address, each cut to its column's size.
func signInKey(email, ip string) (string, string) {
	email = models.NormalizeEmail(email)
	if len(email) > 254 {
		email = email[:254]
	}
	if len(ip) > 64 {
		ip = ip[:64]
	}
	return email, ip
}

// reserveLogin is ReserveSignIn for a key already made by signInKey: it
// returns how long to wait when a limit is reached (nothing recorded).
func (s *Store) reserveLogin(ctx context.Context, email, ip string) (time.Duration, error) {
	var wait time.Duration
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			// Attempts for one account (or address) take turns; SQLite's
			// single writer does this by itself. The account's lock is
			// always taken first, so two attempts never wait on each other
			// in a circle.
			if err := tx.Exec("SELECT pg_advisory_xact_lock(1, hashtext(?)), pg_advisory_xact_lock(2, hashtext(?))", email, ip).Error; err != nil {
				return err
			}
		}
		var err error
		if wait, err = s.loginThrottle(tx, email, ip, models.SignInLimits); err != nil {
			return err
		}
		if wait > 0 {
			return s.auditSignInFailed(tx, email, ip, nil, "throttled")
		}
		return tx.Create(&models.LoginAttempt{Email: email, IP: ip, CreatedAt: s.txNow(tx)}).Error
	})
	return wait, err
}

// loginThrottle returns how long the sign-ins of email from ip must wait
// under limits, or 0.
func (s *Store) loginThrottle(db *gorm.DB, email, ip string, limits []models.SignInLimit) (time.Duration, error) {
	now := s.txNow(db)
	var wait time.Duration
	for _, lim := range limits {
		q := db.Model(&models.LoginAttempt{}).Where("created_at > ?", now.Add(-lim.Window))
		if lim.ByAccount {
			q = q.Where("email = ?", email)
		}
		if lim.ByAddress {
			q = q.Where("ip = ?", ip)
		}
		var times []time.Time
		if err := q.Order("created_at DESC").Limit(lim.Max).Pluck("created_at", &times).Error; err != nil {
			return 0, err
		}
		if len(times) >= lim.Max {
			// Free again when the oldest of the last max failures leaves the window.
			if w := times[lim.Max-1].Add(lim.Window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 && wait < time.Second {
		wait = time.Second
	}
	return wait, nil
}

// accountLimits are the limits that stop an account from every address:
// reaching one locks the account out, as the staff users page shows.
func accountLimits() []models.SignInLimit {
	var out []models.SignInLimit
	for _, lim := range models.SignInLimits {
		if lim.ByAccount && !lim.ByAddress {
			out = append(out, lim)
		}
	}
	return out
}

// countLoginFailure writes the failed sign-in's audit entry (with why it
// failed: "bad_credentials", "bad_code") and keeps a
// known account's failure count and, when the account is locked out from
// every address, until when, for the staff users page; the attempt itself
// was recorded by reserveLogin.
func (s *Store) countLoginFailure(ctx context.Context, email, ip, reason string, u *models.User) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.auditSignInFailed(tx, email, ip, u, reason); err != nil || u == nil {
			return err
		}
		wait, err := s.loginThrottle(tx, email, "", accountLimits())
		if err != nil {
			return err
		}
		upd := map[string]any{"failed_logins": gorm.Expr("failed_logins + 1")}
		if wait > 0 {
			upd["locked_until"] = s.txNow(tx).Add(wait)
		}
		return tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(upd).Error
	})
}

// auditSignInFailed writes a signin.failed entry inside tx for the account
// email tried from ip (u when the email is a staff user's), with why it
// failed: "bad_credentials" or "throttled".
func (s *Store) auditSignInFailed(tx *gorm.DB, email, ip string, u *models.User, reason string) error {
	a := models.Actor{Kind: models.ActorKindUser, Email: email, IP: ip}
	target := models.AuditTarget{Type: models.AuditTargetUser}
	if u != nil {
		a.ID, target.ID = u.ID, u.ID
	}
	return s.auditAs(tx, a, models.AuditSignInFailed, target, map[string]any{"reason": reason})
}

// RecordSignInFailure writes the signin.failed audit entry of a sign-in
// refused other than by a wrong password or code (an identity the provider
// vouched for that may not sign in, a passkey that does not), with why,
// and counts it on u's account (nil: not a staff user) as a failure.
func (s *Store) RecordSignInFailure(ctx context.Context, email, ip, reason string, u *models.User) error {
	email, ip = signInKey(email, ip)
	return s.countLoginFailure(ctx, email, ip, reason, u)
}
