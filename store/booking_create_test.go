package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

var monday = time.Date(2026, 11, 30, 8, 0, 0, 0, time.FixedZone("EST", -5*3600))

func mustOpen(t *testing.T, dialect string) (*store.Store, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(monday)
	return storetest.MustOpen(t, dialect, storetest.Options(clock)), clock
}

func firstSlot(t *testing.T, s *store.Store) time.Time {
	t.Helper()
	slots, _, err := s.Slots(context.Background(), s.Now(), s.Now().Add(7*24*time.Hour))
	if err != nil || len(slots) == 0 {
		t.Fatalf("no slots: %v", err)
	}
	return slots[0].Start
}

func request(email string, start time.Time) models.BookingRequest {
	return models.BookingRequest{Name: "Ada", Email: email, TargetTitle: "Backend Engineer", RoleSlug: "backend-engineer",
		Start: start, Timezone: "Europe/Berlin", UTMSource: "google"}
}

func addHost(t *testing.T, s *store.Store, name string) {
	t.Helper()
	u := models.User{Email: name + "@callbook.test", Name: name, Role: models.RoleSales, Host: true,
		WeeklyJSON: `{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]}`}
	if err := s.DB().Create(&u).Error; err != nil {
		t.Fatal(err)
	}
}

// race books one slot from n goroutines at once and counts the outcomes.
func race(t *testing.T, s *store.Store, start time.Time, n int) (wins []*models.BookingResult, taken int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			res, err := s.BookSlot(context.Background(), request("racer"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com", start), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins = append(wins, res)
			case errors.Is(err, models.ErrSlotTaken):
				taken++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	return wins, taken
}

func TestBookSlot_RaceGivesOneWinner(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		start := firstSlot(t, s)
		wins, taken := race(t, s, start, 50)
		if len(wins) != 1 || taken != 49 {
			t.Fatalf("got %d bookings and %d refusals, want 1 and 49", len(wins), taken)
		}
		var n int64
		s.DB().Model(&models.Booking{}).Where("status = ?", models.BookingConfirmed).Count(&n)
		if n != 1 {
			t.Fatalf("%d confirmed bookings in the database", n)
		}
		slots, _, _ := s.Slots(context.Background(), start, start.Add(time.Minute))
		if len(slots) != 0 {
			t.Errorf("the booked slot is still offered")
		}
	})
}

func TestBookSlot_RaceWithTwoHostsGivesTwoBookingsOnDifferentHosts(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		addHost(t, s, "Grace")
		start := firstSlot(t, s)
		wins, taken := race(t, s, start, 30)
		if len(wins) != 2 || taken != 28 {
			t.Fatalf("got %d bookings and %d refusals, want 2 and 28", len(wins), taken)
		}
		if wins[0].Booking.HostID == wins[1].Booking.HostID {
			t.Fatalf("both calls went to host %d", wins[0].Booking.HostID)
		}
	})
}

func TestBookSlot_DatabaseRefusesOverlapEvenWithoutTheGoCheck(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		res, err := s.BookSlot(context.Background(), request("a@example.com", firstSlot(t, s)), nil)
		if err != nil {
			t.Fatal(err)
		}
		// A claim on a unit the first call holds must be refused by the
		// primary key itself.
		dup := models.BookingClaim{HostID: res.Booking.HostID, Unit: res.Booking.StartAt.Add(10 * time.Minute).Unix(), BookingID: res.Booking.ID + 1}
		if err := s.DB().Create(&dup).Error; err == nil {
			t.Fatal("the database accepted an overlapping claim")
		}
	})
}

func TestBookSlot_LeadIsOnePerEmailAndKeepsFirstAndLatestSource(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		slots, _, _ := s.Slots(ctx, s.Now(), s.Now().Add(72*time.Hour))
		first, err := s.BookSlot(ctx, request("Ada@Example.com", slots[0].Start), nil)
		if err != nil {
			t.Fatal(err)
		}
		second := request("  ada@example.COM ", slots[1].Start)
		second.Email = "ada@example.com"
		second.UTMSource = "newsletter"
		again, err := s.BookSlot(ctx, second, nil)
		if err != nil {
			t.Fatal(err)
		}
		if again.Lead.ID != first.Lead.ID || !first.NewLead || again.NewLead {
			t.Fatalf("leads %d and %d (new %v, %v)", first.Lead.ID, again.Lead.ID, first.NewLead, again.NewLead)
		}
		l, _ := s.LeadByID(ctx, first.Lead.ID)
		if l.FirstUTMSource != "google" || l.UTMSource != "newsletter" {
			t.Errorf("first source %q, latest %q; want google and newsletter", l.FirstUTMSource, l.UTMSource)
		}
	})
}

func TestBookSlot_QueuesMailRemindersAndEventsInOneTransaction(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		res, err := s.BookSlot(context.Background(), request("ada@example.com", firstSlot(t, s)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		s.DB().Model(&models.OutboxMessage{}).Where("booking_id = ?", res.Booking.ID).Order("id").Pluck("kind", &kinds)
		if len(kinds) != 2 || kinds[0] != models.MailConfirmation || kinds[1] != models.MailHostNotice {
			t.Errorf("outbox kinds %v", kinds)
		}
		var rems []models.Reminder
		s.DB().Where("booking_id = ?", res.Booking.ID).Order("offset_label").Find(&rems)
		// The first slot is Monday 12:00 New York, booked at 08:00: the 24h
		// reminder is already past (skipped) and the 1h one pending.
		if len(rems) != 2 || rems[0].Offset != "1h" || rems[0].Status != models.ReminderPending ||
			rems[1].Offset != "24h" || rems[1].Status != models.ReminderSkipped {
			t.Errorf("reminders %+v", rems)
		}
		var types []string
		s.DB().Model(&models.Event{}).Where("lead_id = ?", res.Lead.ID).Order("id").Pluck("type", &types)
		if len(types) != 2 || types[0] != "lead.created" || types[1] != "booking.created" {
			t.Errorf("events %v", types)
		}

		// A failed booking leaves nothing behind.
		if _, err := s.BookSlot(context.Background(), request("bob@example.com", res.Booking.StartAt), nil); !errors.Is(err, models.ErrSlotTaken) {
			t.Fatalf("second booking: %v", err)
		}
		var leads int64
		s.DB().Model(&models.Lead{}).Where("email_key = ?", "bob@example.com").Count(&leads)
		if leads != 0 {
			t.Error("a refused booking left its lead behind")
		}
	})
}

func TestBookSlot_TokenFindsTheBookingAndOnlyItsHashIsStored(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		res, err := s.BookSlot(context.Background(), request("ada@example.com", firstSlot(t, s)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Token) < 22 {
			t.Fatalf("token %q is too short for 128 bits", res.Token)
		}
		b, err := s.BookingByToken(context.Background(), res.Token)
		if err != nil || b.ID != res.Booking.ID {
			t.Fatalf("by token: %v", err)
		}
		if b.TokenHash == res.Token {
			t.Fatal("the token itself is stored")
		}
		if _, err := s.BookingByToken(context.Background(), res.Token[:len(res.Token)-1]+"x"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("a wrong token: %v", err)
		}
	})
}
