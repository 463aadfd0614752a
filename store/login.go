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

// reserveLogin counts the recent failures of the account and of the
// address and, when both are under their limits, records this attempt as a
// failure in the same transaction, before any password is checked. So
// concurrent guesses cannot all pass the count while the first are still
// in bcrypt: the (MaxAccountFailures+1)th is refused whatever the timing.
// A success later deletes the account's failures, this one included. It
// returns how long to wait when a limit is reached (nothing recorded).
func (s *Store) reserveLogin(ctx context.Context, email, ip string) (time.Duration, error) {
	var wait time.Duration
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			// Attempts for one account (or address) take turns; SQLite's
			// single writer does this by itself.
			if err := tx.Exec("SELECT pg_advisory_xact_lock(1, hashtext(?)), pg_advisory_xact_lock(2, hashtext(?))", email, ip).Error; err != nil {
				return err
			}
		}
		var err error
		if wait, err = s.loginThrottle(tx, email, ip); err != nil || wait > 0 {
			return err
		}
		return tx.Create(&models.LoginAttempt{Email: email, IP: ip, CreatedAt: s.txNow(tx)}).Error
	})
	return wait, err
}

// loginThrottle returns how long the account or address must wait, or 0.
func (s *Store) loginThrottle(db *gorm.DB, email, ip string) (time.Duration, error) {
	now := s.Now()
	since := now.Add(-models.LoginWindow)
	var wait time.Duration
	for _, lim := range []struct {
		col, val string
		max      int
	}{{"email", email, models.MaxAccountFailures}, {"ip", ip, models.MaxAddressFailures}} {
		var times []time.Time
		err := db.Model(&models.LoginAttempt{}).Where(lim.col+" = ? AND created_at > ?", lim.val, since).
			Order("created_at DESC").Limit(lim.max).Pluck("created_at", &times).Error
		if err != nil {
			return 0, err
		}
		if len(times) >= lim.max {
			// Free again when the oldest of the last max failures leaves the window.
			if w := times[lim.max-1].Add(models.LoginWindow).Sub(now); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 && wait < time.Second {
		wait = time.Second
	}
	return wait, nil
}

// countLoginFailure keeps a known account's failure count and lock-out
// time for the staff users page; the attempt itself was recorded by
// reserveLogin.
func (s *Store) countLoginFailure(ctx context.Context, email string, u *models.User) error {
	ctx = s.withTxNow(ctx)
	if u == nil {
		return nil
	}
	now := txTime(ctx)
	return s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.LoginAttempt{}).Where("email = ? AND created_at > ?", email, now.Add(-models.LoginWindow)).
			Count(&n).Error; err != nil {
			return err
		}
		upd := map[string]any{"failed_logins": gorm.Expr("failed_logins + 1")}
		if n >= models.MaxAccountFailures {
			upd["locked_until"] = now.Add(models.LoginWindow)
		}
		return tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(upd).Error
	})
}
