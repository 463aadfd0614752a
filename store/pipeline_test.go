package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// A booking on PostgreSQL takes three round trips: BEGIN, the lead's
// lookup, the host locks and who is busy, sent together; the booking
// with its claims and its new lead; the deferred writes with the COMMIT
// and the raise of the availability version. A statement that slips in
// between, or a prefetched answer the booking no longer uses, shows here
// as a fourth.
func TestBookSlot_PostgresBookingTakesThreeRoundTrips(t *testing.T) {
	s := openPostgres(t, "cb_round_trips")
	addHost(t, s, "Grace") // several hosts: whose turn it is is read too
	day := firstDaySlots(t, s)
	ctx := context.Background()
	// The first booking loads the configuration the replica keeps.
	if _, err := s.BookSlot(ctx, request("first@example.com", day[0]), nil); err != nil {
		t.Fatal(err)
	}
	before := s.PipelinesForTest()
	if _, err := s.BookSlot(ctx, request("second@example.com", day[1]), nil); err != nil {
		t.Fatal(err)
	}
	if n := s.PipelinesForTest() - before; n != 3 {
		t.Fatalf("a booking took %d round trips, want 3", n)
	}
}

// A refused booking leaves no transaction open on its connection, and a
// failed statement in the middle of a pipeline leaves nothing written:
// every connection of the pool is idle afterwards, and the next booking
// of the same time succeeds.
func TestBookSlot_PostgresRefusedBookingEndsItsTransaction(t *testing.T) {
	const app = "cb_refused_ends"
	url := storetest.URL(t, store.DialectPostgres) + "&application_name=" + app
	s := storetest.MustOpenURL(t, url, storetest.Options(storetest.NewClock(monday)))
	// Its own connection: one from the store's pool would be checked, and
	// dropped if in a transaction, before it ran the count below.
	raw := storetest.OpenRaw(t, url)
	ctx := context.Background()
	start := firstSlot(t, s)
	if _, err := s.BookSlot(ctx, request("first@example.com", start), nil); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.BookSlot(ctx, request("again@example.com", start), nil); !errors.Is(err, models.ErrSlotTaken) {
			t.Fatalf("the same time again: %v, want ErrSlotTaken", err)
		}
	}
	// A statement that fails inside the transaction: a booking longer
	// than the database's column for the message allows is refused by
	// the insert of the booking itself.
	long := request("long@example.com", firstDaySlots(t, s)[1])
	long.TargetTitle = strings.Repeat("x", 500)
	if _, err := s.BookSlot(ctx, long, nil); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("a 500-character title in a 120-character column: %v, want the database's refusal", err)
	}
	var open int64
	if err := raw.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", app).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Fatalf("%d connections left in a transaction", open)
	}
	var leads int64
	s.DB().Model(&models.Lead{}).Where("email_key IN ?", []string{"again@example.com", "long@example.com"}).Count(&leads)
	if leads != 0 {
		t.Fatalf("%d leads of refused bookings were kept", leads)
	}
	if _, err := s.BookSlot(ctx, request("next@example.com", firstDaySlots(t, s)[1]), nil); err != nil {
		t.Fatalf("the next booking, on the same connections: %v", err)
	}
}
