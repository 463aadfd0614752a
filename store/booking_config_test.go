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

// On PostgreSQL a replica keeps the hosts, settings, admins and webhooks a
// booking reads; what staff change on another replica must reach its
// very next booking.
func TestBookSlot_PostgresSeesConfigurationAnotherReplicaChanged(t *testing.T) {
	ctx := context.Background()
	a, b := twoReplicas(t)
	addHost(t, a, "ana")
	ana := hostID(t, a, "ana@callbook.test")
	team := hostID(t, a, storetest.TeamEmail)
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
		off := true
		if _, err := b.UpdateUser(ctx, ana, models.UserChange{Disabled: &off}, nil); err != nil {
			t.Fatal(err)
		}
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
	a, b := twoReplicas(t)
	addHost(t, a, "ana")
	ana := hostID(t, a, "ana@callbook.test")
	team := hostID(t, a, storetest.TeamEmail)
	slots := firstDaySlots(t, a)
	if _, err := a.BookSlot(ctx, request("first@example.com", slots[0]), nil); err != nil {
		t.Fatal(err)
	}
	off, on := true, false
	if _, err := b.UpdateUser(ctx, ana, models.UserChange{Disabled: &off}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UpdateUser(ctx, team, models.UserChange{Disabled: &off}, nil); err != nil {
		t.Fatal(err)
	}
	// Replica a learns there is no host.
	if _, err := a.BookSlot(ctx, request("early@example.com", slots[1]), nil); !errors.Is(err, models.ErrSlotTaken) {
		t.Fatalf("booking with no host enabled: %v, want ErrSlotTaken", err)
	}
	if _, err := b.UpdateUser(ctx, ana, models.UserChange{Disabled: &on}, nil); err != nil {
		t.Fatal(err)
	}
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
	a, b := twoReplicas(t)
	addHost(t, a, "ana")
	ana := hostID(t, a, "ana@callbook.test")
	team := hostID(t, a, storetest.TeamEmail)
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
	off := true
	if _, err := b.UpdateUser(ctx, team, models.UserChange{Disabled: &off}, nil); err != nil {
		t.Fatal(err)
	}
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
