package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

func TestMigrate_AddsTheMeetingColumnsToAnExistingDatabase(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		// As a database migrated before meeting places existed.
		for _, q := range []string{
			"ALTER TABLE users DROP COLUMN meeting_kind", "ALTER TABLE users DROP COLUMN meeting_url",
			"ALTER TABLE users DROP COLUMN meeting_address", "ALTER TABLE bookings DROP COLUMN meeting_kind",
			"ALTER TABLE bookings DROP COLUMN meeting_url", "ALTER TABLE bookings DROP COLUMN meeting_address",
			"DELETE FROM schema_migrations WHERE version = 5",
		} {
			if err := s.DB().Exec(q).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		res := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		if b := mgBooking(t, s, res.Booking.ID); b.MeetingKind != models.MeetingVideo ||
			b.MeetingURL != "https://meet.callbook.test/call-"+b.UID {
			t.Errorf("booking after the migration: %+v", b)
		}
	})
}

func TestReschedule_ToAnotherHostTakesThatHostsPlaceAndWithdrawsTheOldHostsEvent(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		ana, err := s.CreateUser(ctx, models.NewUser{Email: "ana@example.com", Name: "Ana", Role: models.RoleSales,
			Host: true, Password: "violet harbour tram 81"})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := s.Availability(ctx, ana.ID)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Meeting = &models.Meeting{Kind: models.MeetingInPerson, Address: "12 Harbour Street"}
		if _, err := s.SetAvailability(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		booked := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		if booked.Host.ID == ana.ID || booked.Booking.MeetingKind != models.MeetingVideo {
			t.Fatalf("first call went to %s with %s", booked.Host.Name, booked.Booking.MeetingKind)
		}
		// The team host is away on Wednesday: a move there goes to Ana.
		team, err := s.Availability(ctx, booked.Host.ID)
		if err != nil {
			t.Fatal(err)
		}
		team.Overrides = []models.OverrideJSON{{Date: "2026-12-02", Hours: models.HoursJSON{}}}
		if _, err := s.SetAvailability(ctx, team); err != nil {
			t.Fatal(err)
		}
		moved, err := s.RescheduleBooking(ctx, booked.Token, mgAt(t, "2026-12-02 10:00"), "")
		if err != nil {
			t.Fatal(err)
		}
		b := mgBooking(t, s, booked.Booking.ID)
		if moved.Host.ID != ana.ID || b.MeetingKind != models.MeetingInPerson || b.MeetingAddress != "12 Harbour Street" || b.MeetingURL != "" {
			t.Fatalf("moved to %s, meeting %q %q %q", moved.Host.Name, b.MeetingKind, b.MeetingURL, b.MeetingAddress)
		}
		mail := mgOutbox(t, s, b.ID)
		old := mgFind(mail, models.MailHostNotice, "canceled")
		if len(old) != 1 || old[0].ToAddr != storetest.TeamEmail || old[0].Data.Sequence != b.Sequence || b.Sequence != 1 {
			t.Fatalf("the old host's notice: %+v (booking sequence %d)", old, b.Sequence)
		}
		// Both hosts' notices answer to the visitor.
		for _, n := range mgFind(mail, models.MailHostNotice, "") {
			if len(n.Data.ReplyTo) != 1 || !strings.Contains(n.Data.ReplyTo[0], "<ada@example.com>") {
				t.Errorf("the %s host notice to %s replies to %v, want the visitor", n.Data.Change, n.ToAddr, n.Data.ReplyTo)
			}
		}
		if n := mgFind(mail, models.MailHostNotice, "rescheduled"); len(n) != 1 || n[0].ToAddr != "ana@example.com" ||
			n[0].Data.Meeting == nil || n[0].Data.Meeting.Address != "12 Harbour Street" {
			t.Fatalf("the new host's notice: %+v", n)
		}
		if v := mgFind(mail, models.MailReschedule, ""); len(v) != 1 || len(v[0].Data.ReplyTo) != 1 || v[0].Data.ReplyTo[0] != "ana@example.com" {
			t.Fatalf("the visitor's email replies to %+v", v)
		}
	})
}

// TestMeetingLocation_OneLineForCalendars is what invites and host feeds
// put in LOCATION: the room, the address on one line, or the number rung.
func TestMeetingLocation_OneLineForCalendars(t *testing.T) {
	for _, c := range []struct {
		m     models.Meeting
		phone string
		want  string
	}{
		{models.Meeting{Kind: models.MeetingVideo, URL: "https://meet.example.com/r1"}, "+1 555 0100", "https://meet.example.com/r1"},
		{models.Meeting{Kind: models.MeetingInPerson, Address: "Room 4\n1 Main St,\t Springfield"}, "", "Room 4 1 Main St, Springfield"},
		{models.Meeting{Kind: models.MeetingPhone}, "+1 555 0100", "Phone call to +1 555 0100"},
		{models.Meeting{Kind: models.MeetingPhone}, "", "Phone call"},
	} {
		if got := c.m.Location(c.phone); got != c.want {
			t.Errorf("%+v with phone %q: %q, want %q", c.m, c.phone, got, c.want)
		}
	}
}
