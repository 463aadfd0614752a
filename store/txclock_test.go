package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// tickingClock moves on a millisecond at every reading, so two readings
// of the clock within one transaction would give two different times.
type tickingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func TestBookSlot_OneClockReadingPerTransaction(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := &tickingClock{t: monday}
		opts := storetest.Options(storetest.NewClock(monday))
		opts.Now = clock.Now
		s := storetest.MustOpen(t, dialect, opts)
		start := firstSlot(t, s)
		res, err := s.BookSlot(context.Background(), request("ada@example.com", start), nil)
		if err != nil {
			t.Fatal(err)
		}
		var lead models.Lead
		var booking models.Booking
		var events []models.Event
		var mail []models.OutboxMessage
		db := s.DB()
		if err := db.First(&lead, res.Lead.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.First(&booking, res.Booking.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Where("lead_id = ?", lead.ID).Find(&events).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Find(&mail).Error; err != nil {
			t.Fatal(err)
		}
		if len(events) < 2 || len(mail) < 2 {
			t.Fatalf("want the booking's events and emails, got %d events, %d emails", len(events), len(mail))
		}
		want := booking.CreatedAt
		if !lead.CreatedAt.Equal(want) {
			t.Errorf("lead created %s, booking %s: two readings of the clock", lead.CreatedAt, want)
		}
		for _, e := range events {
			if !e.CreatedAt.Equal(want) {
				t.Errorf("event %s at %s, booking at %s", e.Type, e.CreatedAt, want)
			}
		}
		for _, m := range mail {
			if !m.CreatedAt.Equal(want) {
				t.Errorf("email %s queued at %s, booking at %s", m.Kind, m.CreatedAt, want)
			}
		}
	})
}
