package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestAuthenticate_RightPasswordOnlyAndNeverSaysWhichPartWasWrong(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		u := mustStaffUser(t, s, "ana@example.com", models.RoleSales)
		got, err := s.Authenticate(ctx, " ANA@example.com", staffPassword, "192.0.2.1")
		if err != nil || got.ID != u.ID {
			t.Fatalf("right password: %v %v", got, err)
		}
		if _, err := s.Authenticate(ctx, "ana@example.com", "wrong-password-1", "192.0.2.1"); !errors.Is(err, models.ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := s.Authenticate(ctx, "nobody@example.com", staffPassword, "192.0.2.1"); !errors.Is(err, models.ErrBadCredentials) {
			t.Fatalf("unknown email: %v", err)
		}
		var n int64
		s.DB().Model(&models.LoginAttempt{}).Count(&n)
		if n != 2 {
			t.Fatalf("want 2 recorded failures, got %d", n)
		}
	})
}

func TestAuthenticate_ThrottlesPerAccountAndAddressPerAddressAndPerAccount(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		mustStaffUser(t, s, "ana@example.com", models.RoleSales)
		now := s.Now()
		for i := range models.MaxAccountAddressFailures {
			at := now.Add(time.Duration(i-models.MaxAccountAddressFailures) * time.Minute)
			s.DB().Create(&models.LoginAttempt{Email: "ana@example.com", IP: "198.51.100.1", CreatedAt: at})
		}
		// From that address, even the right password is not checked...
		_, err := s.Authenticate(ctx, "ana@example.com", staffPassword, "198.51.100.1")
		var te *models.ThrottledError
		if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > models.LoginWindow {
			t.Fatalf("account and address throttle: %v", err)
		}
		if !strings.Contains(te.Error(), "try again in") {
			t.Fatalf("message %q", te.Error())
		}
		// ...but from another it is, and another account from that address too.
		if _, err := s.Authenticate(ctx, "ana@example.com", staffPassword, "192.0.2.9"); err != nil {
			t.Fatalf("the owner from another address: %v", err)
		}
		if _, err := s.Authenticate(ctx, "bo@example.com", "x", "198.51.100.1"); !errors.Is(err, models.ErrBadCredentials) {
			t.Fatalf("other account: %v", err)
		}
		for i := range models.MaxAddressFailures {
			s.DB().Create(&models.LoginAttempt{Email: fmt.Sprintf("u%d@example.com", i), IP: "203.0.113.5", CreatedAt: now})
		}
		if _, err := s.Authenticate(ctx, "cy@example.com", "x", "203.0.113.5"); !errors.As(err, &te) {
			t.Fatalf("address throttle: %v", err)
		}
		for i := range models.MaxAccountFailures {
			at := now.Add(time.Duration(i-models.MaxAccountFailures) * time.Second)
			s.DB().Create(&models.LoginAttempt{Email: "dee@example.com", IP: fmt.Sprintf("198.51.%d.%d", i/200, i%200), CreatedAt: at})
		}
		mustStaffUser(t, s, "dee@example.com", models.RoleSales)
		_, err = s.Authenticate(ctx, "dee@example.com", staffPassword, "192.0.2.10")
		if !errors.As(err, &te) || te.RetryAfter <= models.LoginWindow || te.RetryAfter > models.AccountLoginWindow {
			t.Fatalf("account throttle: %v", err)
		}
		clock.Advance(models.AccountLoginWindow + time.Second)
		for _, who := range []string{"ana@example.com", "dee@example.com"} {
			if _, err := s.Authenticate(ctx, who, staffPassword, "203.0.113.5"); err != nil {
				t.Fatalf("%s after the windows: %v", who, err)
			}
		}
	})
}

func TestSession_IdleAndAbsoluteTimeoutsAndOnlyAHashIsStored(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		u := mustStaffUser(t, s, "ana@example.com", models.RoleSales)
		ns, err := s.CreateSession(ctx, u, "192.0.2.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		var row models.Session
		s.DB().Take(&row)
		if row.ID == ns.Token || len(row.CSRFToken) < 32 {
			t.Fatalf("stored id %q equals the cookie value, or weak CSRF token", row.ID)
		}
		other, _ := s.CreateSession(ctx, u, "192.0.2.1", "test")
		if other.Token == ns.Token || other.Session.CSRFToken == ns.Session.CSRFToken {
			t.Fatal("two sign-ins share a session id or CSRF token")
		}
		// Each visit within the idle limit keeps the session alive...
		for elapsed := time.Duration(0); elapsed < store.SessionAbsolute-store.SessionIdle; elapsed += store.SessionIdle - time.Hour {
			if _, _, err := s.SessionUser(ctx, ns.Token); err != nil {
				t.Fatalf("after %v: %v", elapsed, err)
			}
			clock.Advance(store.SessionIdle - time.Hour)
		}
		// ...but never past the absolute limit.
		clock.Set(ns.Session.CreatedAt.Add(store.SessionAbsolute))
		if _, _, err := s.SessionUser(ctx, ns.Token); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("past the absolute limit: %v", err)
		}
		// An untouched session ends after the idle limit.
		fresh, _ := s.CreateSession(ctx, u, "192.0.2.1", "test")
		clock.Advance(store.SessionIdle)
		if _, _, err := s.SessionUser(ctx, fresh.Token); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("idle session: %v", err)
		}
		last, _ := s.CreateSession(ctx, u, "192.0.2.1", "test")
		if err := s.DeleteSession(ctx, last.Token); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionUser(ctx, last.Token); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("signed-out session: %v", err)
		}
	})
}

func TestAPIToken_StoredAsHashRecordsUseAndCanBeRevoked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)
		token, row, err := s.CreateAPIToken(ctx, admin.ID, "reporting")
		if err != nil {
			t.Fatal(err)
		}
		var stored models.APIToken
		s.DB().Take(&stored, row.ID)
		if strings.Contains(stored.TokenHash, token) || len(stored.TokenHash) != 64 || stored.LastUsedAt != nil {
			t.Fatalf("stored %+v", stored)
		}
		clock.Advance(time.Hour)
		u, err := s.UserByAPIToken(ctx, token)
		if err != nil || u.ID != admin.ID {
			t.Fatalf("lookup: %v %v", u, err)
		}
		s.DB().Take(&stored, row.ID)
		if stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(s.Now()) {
			t.Fatalf("last used %v, want %v", stored.LastUsedAt, s.Now())
		}
		if _, err := s.UserByAPIToken(ctx, token+"x"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("wrong token: %v", err)
		}
		if err := s.RevokeAPIToken(ctx, row.ID, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByAPIToken(ctx, token); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("revoked token: %v", err)
		}
	})
}
