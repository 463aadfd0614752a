package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// twoReplicas opens two stores on one fresh PostgreSQL database, as two
// replicas of the service would be.
func twoReplicas(t *testing.T) (a, b *store.Store) {
	t.Helper()
	url := storetest.URL(t, store.DialectPostgres)
	clock := storetest.NewClock(monday)
	a = storetest.MustOpenURL(t, url, storetest.Options(clock))
	b = storetest.MustOpenURL(t, url, storetest.Options(clock))
	return a, b
}

// replicaPair is twoReplicas with two hosts: Ana, added, and the team's.
type replicaPair struct {
	a, b      *store.Store
	ana, team uint
}

func twoReplicasWithAna(t *testing.T) replicaPair {
	t.Helper()
	a, b := twoReplicas(t)
	addHost(t, a, "ana")
	return replicaPair{a: a, b: b, ana: hostID(t, a, "ana@callbook.test"), team: hostID(t, a, storetest.TeamEmail)}
}

// setDisabled disables (or enables) user id through s, as staff would.
func setDisabled(t *testing.T, s *store.Store, id uint, disabled bool) {
	t.Helper()
	if _, err := s.UpdateUser(context.Background(), id, models.UserChange{Disabled: &disabled}, nil); err != nil {
		t.Fatal(err)
	}
}

// On PostgreSQL a replica keeps the hosts, settings, admins and webhooks a
// booking reads; what staff change on another replica must reach its
// very next booking.
func TestBookSlot_PostgresSeesConfigurationAnotherReplicaChanged(t *testing.T) {
	ctx := context.Background()
	r := twoReplicasWithAna(t)
	a, b, ana, team := r.a, r.b, r.ana, r.team
	cfg, err := b.Availability(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	top := 3
	cfg.Priority = &top
	if _, err := b.SetAvailability(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	booked := 0
	// book books the nth time replica a offers now.
	book := func(nth int) *models.BookingResult {
		t.Helper()
		booked++
		res, err := a.BookSlot(ctx, request("visitor"+string(rune('a'+booked))+"@example.com", firstDaySlots(t, a)[nth]), nil)
		if err != nil {
			t.Fatalf("booking %d: %v", booked, err)
		}
		return res
	}
	// The first booking fills replica a's cache: Ana, first in priority.
	if res := book(0); res.Host.ID != ana {
		t.Fatalf("first call went to host %d, want Ana (%d), who has the top priority", res.Host.ID, ana)
	}

	t.Run("a host disabled on the other replica takes no more calls", func(t *testing.T) {
		setDisabled(t, b, ana, true)
		// Not the first time offered: Ana has that call.
		if res := book(1); res.Host.ID != team {
			t.Fatalf("call went to host %d after Ana was disabled, want the team host %d", res.Host.ID, team)
		}
	})

	t.Run("a new call length set on the other replica is the next call's", func(t *testing.T) {
		cfg, err := b.Availability(ctx, team)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DurationMinutes = 45
		if _, err := b.SetAvailability(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		res := book(0)
		if got := res.Booking.EndAt.Sub(res.Booking.StartAt); got != 45*time.Minute {
			t.Fatalf("call lasts %v, want the 45 minutes set on the other replica", got)
		}
	})

	t.Run("a webhook added on the other replica gets the next booking", func(t *testing.T) {
		if _, err := b.CreateWebhook(ctx, models.WebhookInput{URL: "https://hooks.example.com/callbook",
			Events: []string{models.WebhookBookingCreated}}, nil); err != nil {
			t.Fatal(err)
		}
		res := book(0)
		var n int64
		a.DB().Model(&models.WebhookDelivery{}).Where("booking_id = ?", res.Booking.ID).Count(&n)
		if n != 1 {
			t.Fatalf("%d webhook deliveries for the booking, want 1", n)
		}
	})
}

// A replica whose cached configuration has no host at all does not turn
// a visitor away before it has checked that configuration against the
// database.
func TestBookSlot_PostgresCheckedBeforeSayingNoHostIsFree(t *testing.T) {
	ctx := context.Background()
	r := twoReplicasWithAna(t)
	a, b, ana := r.a, r.b, r.ana
	slots := firstDaySlots(t, a)
	if _, err := a.BookSlot(ctx, request("first@example.com", slots[0]), nil); err != nil {
		t.Fatal(err)
	}
	setDisabled(t, b, ana, true)
	setDisabled(t, b, r.team, true)
	// Replica a learns there is no host.
	if _, err := a.BookSlot(ctx, request("early@example.com", slots[1]), nil); !errors.Is(err, models.ErrSlotTaken) {
		t.Fatalf("booking with no host enabled: %v, want ErrSlotTaken", err)
	}
	setDisabled(t, b, ana, false)
	res, err := a.BookSlot(ctx, request("later@example.com", slots[1]), nil)
	if err != nil {
		t.Fatalf("booking once Ana is back: %v", err)
	}
	if res.Host.ID != ana {
		t.Fatalf("call went to host %d, want Ana (%d)", res.Host.ID, ana)
	}
}

// A replica opens its connections and rehearses a booking on each before
// it takes requests: every rehearsal is rolled back, and the first real
// booking after it books as usual.
func TestWarmConnections_PostgresRehearsesBookingsAndKeepsNothing(t *testing.T) {
	ctx := context.Background()
	a, _ := twoReplicas(t)
	if err := a.WarmConnections(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := a.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	if open := db.Stats().OpenConnections; open != 20 {
		t.Fatalf("%d connections open after the warm-up, want the pool's 20", open)
	}
	for _, table := range []string{"leads", "bookings", "booking_claims", "outbox", "events", "reminders", "lead_answers", "stats_daily_parts"} {
		var n int64
		if err := a.DB().Table(table).Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("%s holds %d rows after the warm-up (%v), want none", table, n, err)
		}
	}
	res, err := a.BookSlot(ctx, request("first@example.com", firstDaySlots(t, a)[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Booking.ID == 0 || res.Lead.ID == 0 {
		t.Fatalf("booking after the warm-up: %+v", res)
	}
}

// Without its version row (deleted by hand), a replica cannot trust a
// cached configuration: bookings still see every change.
func TestBookSlot_PostgresWithoutTheVersionRowReadsTheConfigurationEachTime(t *testing.T) {
	ctx := context.Background()
	r := twoReplicasWithAna(t)
	a, ana := r.a, r.ana
	slots := firstDaySlots(t, a)
	// The first booking fills a's cache; the next finds the row gone.
	for i, start := range slots[:2] {
		if i == 1 {
			if err := a.DB().Exec("DELETE FROM settings WHERE key = 'config_version'").Error; err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.BookSlot(ctx, request("early"+string(rune('a'+i))+"@example.com", start), nil); err != nil {
			t.Fatal(err)
		}
	}
	setDisabled(t, r.b, r.team, true)
	for i, start := range slots[2:4] {
		res, err := a.BookSlot(ctx, request("next"+string(rune('a'+i))+"@example.com", start), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Host.ID != ana {
			t.Fatalf("call %d went to host %d after the team host was disabled, want Ana (%d)", i, res.Host.ID, ana)
		}
	}
}

// A booking takes its time out of what every replica offers by the time
// it has answered: it raises the availability version with its commit,
// which each replica's cache of free times compares before it answers.
func TestBookSlot_PostgresBookedTimeLeavesEveryReplicasOffer(t *testing.T) {
	ctx := context.Background()
	a, b := twoReplicas(t)
	offers := func(s *store.Store, start time.Time) bool {
		t.Helper()
		slots, _, err := s.Slots(ctx, start.Add(-time.Minute), start.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return len(slots) == 1 && slots[0].Start.Equal(start)
	}
	start := firstSlot(t, b) // each replica's cache now holds the time
	if !offers(a, start) || !offers(b, start) {
		t.Fatal("the first time is not offered by both replicas")
	}
	if _, err := a.BookSlot(ctx, request("first@example.com", start), nil); err != nil {
		t.Fatal(err)
	}
	if offers(a, start) {
		t.Fatal("the replica that booked the time still offers it")
	}
	if offers(b, start) {
		t.Fatal("the other replica still offers the booked time")
	}
}
