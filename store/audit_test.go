package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// bookLeads books one of the next offered calls for each email, in order.
func bookLeads(t *testing.T, s *store.Store, emails ...string) []*models.BookingResult {
	t.Helper()
	slots, _, err := s.Slots(context.Background(), s.Now(), s.Now().Add(14*24*time.Hour))
	if err != nil || len(slots) < len(emails) {
		t.Fatalf("%d slots: %v", len(slots), err)
	}
	out := make([]*models.BookingResult, len(emails))
	for i, e := range emails {
		out[i] = storetest.MustBookAt(t, s, slots[i].Start, e)
	}
	return out
}

// storeWithAdmin opens a fresh store on a test clock, with an admin.
func storeWithAdmin(t *testing.T, dialect string) (*store.Store, *storetest.Clock, *models.User) {
	t.Helper()
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	s := storetest.MustOpen(t, dialect, storetest.Options(clock))
	admin, err := s.CreateUser(context.Background(), models.NewUser{Email: "admin@example.com", Name: "Admin", Role: models.RoleAdmin,
		Password: "plum-otter-violin-42"})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock, admin
}

func auditOf(t *testing.T, s *store.Store, where string, args ...any) []models.AuditEntry {
	t.Helper()
	var rows []models.AuditEntry
	if err := s.DB().Where(where, args...).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestEraseLead_ScrubsThePersonFromAuditDetails(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _, admin := storeWithAdmin(t, dialect)
		ctx := context.Background()
		res := bookLeads(t, s, "ada.lovelace@example.com", "bob@example.com")
		ada, bob := res[0].Lead.ID, res[1].Lead.ID
		actx := store.WithActor(ctx, models.UserActor(admin, "203.0.113.9"))
		status := models.LeadQualified
		for _, id := range []uint{ada, bob} {
			if _, err := s.UpdateLead(actx, id, models.LeadChange{Status: &status}, admin); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddNote(actx, id, "Wants to move to platform work", admin); err != nil {
				t.Fatal(err)
			}
		}
		before := auditOf(t, s, "lead_id = ?", ada)
		if len(before) != 2 || !strings.Contains(before[0].Details, "ada.lovelace@example.com") {
			t.Fatalf("entries about Ada before erasure: %+v", before)
		}

		if err := s.EraseLead(actx, ada, admin); err != nil {
			t.Fatal(err)
		}
		after := auditOf(t, s, "lead_id = ?", ada)
		if len(after) != 3 || after[2].Action != models.AuditLeadErased || *after[2].ActorID != admin.ID {
			t.Fatalf("entries about Ada after erasure: %+v", after)
		}
		for _, en := range after {
			if strings.Contains(en.Details, "ada") || strings.Contains(en.Details, "Visitor") {
				t.Errorf("%s still names the person: %s", en.Action, en.Details)
			}
		}
		if !strings.Contains(after[0].Details, `"status"`) {
			t.Errorf("the change itself went with the person: %s", after[0].Details)
		}
		// Other leads' entries, and staff users', keep their details.
		if got := auditOf(t, s, "lead_id = ?", bob); !strings.Contains(got[0].Details, "bob@example.com") {
			t.Errorf("Bob's entry lost its details: %s", got[0].Details)
		}
		if got := auditOf(t, s, "action = ?", models.AuditUserCreated); len(got) != 1 || !strings.Contains(got[0].Details, "admin@example.com") {
			t.Errorf("user.created: %+v", got)
		}
	})
}

func TestCleanUp_RemovesAuditEntriesOlderThanTheRetention(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		opts := storetest.Options(clock)
		opts.AuditRetention = 30 * 24 * time.Hour
		s := storetest.MustOpen(t, dialect, opts)
		ctx := context.Background()
		if _, err := s.CreateUser(ctx, models.NewUser{Email: "old@example.com", Name: "Old", Role: models.RoleSales, Password: "plum-otter-violin-42"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(20 * 24 * time.Hour)
		if _, err := s.CreateUser(ctx, models.NewUser{Email: "new@example.com", Name: "New", Role: models.RoleSales, Password: "plum-otter-violin-42"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(11 * 24 * time.Hour)
		r, err := s.CleanUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		left := auditOf(t, s, "action = ?", models.AuditUserCreated)
		if r.AuditEntries != 1 || len(left) != 1 || !strings.Contains(left[0].Details, "new@example.com") {
			t.Errorf("removed %d, left %+v; want the 31-day-old entry gone and the 11-day-old one kept", r.AuditEntries, left)
		}
	})
}

func TestEraseInactiveLeads_ErasesOnlyLeadsIdleForThePolicyOncePerNight(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock, admin := storeWithAdmin(t, dialect)
		ctx := context.Background()
		res := bookLeads(t, s, "idle@example.com", "noted@example.com", "changed@example.com", "coming@example.com")
		idle, noted, changed, coming := res[0].Lead.ID, res[1].Lead.ID, res[2].Lead.ID, res[3].Lead.ID

		// Forty days on: every call is over.
		clock.Advance(40 * 24 * time.Hour)
		if _, err := s.AddNote(ctx, noted, "Still interested", admin); err != nil {
			t.Fatal(err)
		}
		lost := models.LeadLost
		if _, err := s.UpdateLead(ctx, changed, models.LeadChange{Status: &lost}, admin); err != nil {
			t.Fatal(err)
		}
		// A call moved far ahead, without any other change to the lead.
		if err := s.DB().Exec("UPDATE bookings SET start_at = ?, end_at = ? WHERE id = ?",
			clock.Now().Add(10*24*time.Hour), clock.Now().Add(10*24*time.Hour+30*time.Minute), res[3].Booking.ID).Error; err != nil {
			t.Fatal(err)
		}
		fresh := bookLeads(t, s, "fresh@example.com")[0].Lead.ID

		n, err := s.EraseInactiveLeads(ctx, 30*24*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("erased %d (%v), want 1", n, err)
		}
		for id, wantErased := range map[uint]bool{idle: true, noted: false, changed: false, coming: false, fresh: false} {
			var l models.Lead
			if err := s.DB().Where("id = ?", id).Take(&l).Error; err != nil {
				t.Fatal(err)
			}
			if erased := l.ErasedAt != nil; erased != wantErased || (erased && l.Email != "") {
				t.Errorf("lead %d (%s): erased %v, want %v", id, l.Email, erased, wantErased)
			}
		}
		entries := auditOf(t, s, "action = ?", models.AuditLeadErased)
		if len(entries) != 1 || entries[0].ActorKind != models.ActorKindSystem || entries[0].ActorID != nil ||
			*entries[0].TargetID != idle || !strings.Contains(entries[0].Details, "CALLBOOK_RETENTION_LEADS=720h") {
			t.Errorf("lead.erased entries: %+v, want one by the system for the idle lead", entries)
		}
		// The night's run is done: another run, from this or another
		// replica, erases nothing, even with a lead newly idle enough.
		if n, err := s.EraseInactiveLeads(ctx, 24*time.Hour); err != nil || n != 0 {
			t.Errorf("second run the same night: %d (%v), want 0", n, err)
		}
		clock.Advance(24 * time.Hour)
		if n, err := s.EraseInactiveLeads(ctx, 30*24*time.Hour); err != nil || n != 0 {
			t.Errorf("the next night: %d (%v), want 0", n, err)
		}
		if n, err := s.EraseInactiveLeads(ctx, 0); err != nil || n != 0 {
			t.Errorf("off: %d (%v)", n, err)
		}
	})
}

func TestSecondFactorChanges_AreAuditedWithTheirUser(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _, admin := storeWithAdmin(t, dialect)
		ctx := store.WithActor(context.Background(), models.UserActor(admin, "203.0.113.9"))
		const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
		if err := s.BeginTOTP(ctx, admin.ID, secret); err != nil {
			t.Fatal(err)
		}
		code, err := totp.GenerateCode(secret, s.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmTOTP(ctx, admin.ID, code); err != nil {
			t.Fatal(err)
		}
		if _, err := s.NewRecoveryCodes(ctx, admin.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.VerifySecondFactor(context.Background(), admin, "000000", "198.51.100.4"); err == nil {
			t.Fatal("a wrong code was accepted")
		}
		if err := s.ResetSecondFactors(store.WithActor(context.Background(), models.CLIActor("callbook user reset-2fa")), admin.Email); err != nil {
			t.Fatal(err)
		}
		rows := auditOf(t, s, "target_type = ? AND target_id = ? AND action <> ?", models.AuditTargetUser, admin.ID, models.AuditUserCreated)
		var got []string
		for _, r := range rows {
			got = append(got, r.Action+" "+r.ActorKind+" "+r.IP)
		}
		want := []string{
			"user.factor_added user 203.0.113.9", "user.recovery_codes_renewed user 203.0.113.9",
			"signin.failed user 198.51.100.4", "user.factors_reset cli ",
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(rows[2].Details, `"reason":"bad_code"`) {
			t.Errorf("signin.failed details %s, want the reason bad_code", rows[2].Details)
		}
	})
}
