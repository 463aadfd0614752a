package main

import (
	"context"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/callbook/callbook/models"
)

func TestUserReset2FA_RemovesEveryFactorOfThatUserOnly(t *testing.T) {
	s := staffDB(t)
	ctx := context.Background()
	ids := map[string]uint{}
	for _, email := range []string{"lost@example.com", "other@example.com"} {
		if code, _, stderr := runIn(t, "plum-otter-violin-42\n", "user", "add", "--email", email, "--name", "N", "--role", "admin"); code != 0 {
			t.Fatalf("user add: %q", stderr)
		}
		u, err := s.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		ids[email] = u.ID
		key, err := models.NewTOTPKey("Callbook", email)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.BeginTOTP(ctx, u.ID, key.Secret()); err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(key.Secret(), s.Now())
		if _, err := s.ConfirmTOTP(ctx, u.ID, code); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddPasskey(ctx, u.ID, "Laptop", "cred-"+email, "{}"); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := runIn(t, "", "user", "reset-2fa", "--email", "Lost@Example.com")
	if code != 0 || !strings.Contains(stderr, "removed") {
		t.Fatalf("reset-2fa: exit %d %q", code, stderr)
	}
	f, err := s.SecondFactors(ctx, ids["lost@example.com"])
	if err != nil || f.TOTP || f.TOTPPending || f.RecoveryLeft != 0 || len(f.Passkeys) != 0 {
		t.Errorf("after reset-2fa the user still has %+v %v", f, err)
	}
	if f, _ := s.SecondFactors(ctx, ids["other@example.com"]); !f.TOTP || f.RecoveryLeft != models.RecoveryCodeCount || len(f.Passkeys) != 1 {
		t.Errorf("another user's factors changed: %+v", f)
	}
	if code, _, stderr := runIn(t, "", "user", "reset-2fa", "--email", "nobody@example.com"); code != 1 || !strings.Contains(stderr, "no staff user") {
		t.Errorf("unknown email: exit %d %q", code, stderr)
	}
	if code, _, _ := runIn(t, "", "user", "reset-2fa"); code != 2 {
		t.Errorf("without --email: exit %d, want 2", code)
	}
}
