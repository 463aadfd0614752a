package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestTOTP_SecretIsSealedAndNeedsTheSameServiceSecret(t *testing.T) {
	ctx := context.Background()
	url := storetest.URL(t, store.DialectSQLite)
	opts := storetest.Options(storetest.NewClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)))
	s := storetest.MustOpenURL(t, url, opts)
	u := &models.User{Email: "ana@example.com", Name: "Ana", Role: models.RoleAdmin, PasswordHash: "x", WeeklyJSON: "{}"}
	if err := s.DB().Create(u).Error; err != nil {
		t.Fatal(err)
	}
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if err := s.BeginTOTP(ctx, u.ID, secret); err != nil {
		t.Fatal(err)
	}
	var stored string
	s.DB().Model(&models.TOTPFactor{}).Where("user_id = ?", u.ID).Pluck("secret", &stored)
	if stored == "" || strings.Contains(stored, secret) {
		t.Fatalf("stored secret %q", stored)
	}
	if got, err := s.PendingTOTPSecret(ctx, u.ID); err != nil || got != secret {
		t.Fatalf("opened: %q %v", got, err)
	}
	s.Close()

	opts.Secret = []byte("another-secret-another-secret-another")
	other := storetest.MustOpenURL(t, url, opts)
	if _, err := other.PendingTOTPSecret(ctx, u.ID); !errors.Is(err, models.ErrUnsealable) {
		t.Fatalf("opened with another service secret: %v", err)
	}
}
