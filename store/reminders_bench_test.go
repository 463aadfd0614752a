package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

const (
	benchBookings = 50_000 // two reminders each: 100,000 pending
	benchDue      = 1_000  // bookings whose 24h reminder is overdue
)

// BenchmarkSweepReminders measures one sweep that finds the 1,000 due
// reminders among 100,000 pending and queues their emails and events.
//
//	go test ./models/ -run '^$' -bench SweepReminders -benchtime 10x
func BenchmarkSweepReminders(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		clock := storetest.NewClock(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))
		s := storetest.MustOpen(b, dialect, storetest.Options(clock))
		seedReminders(b, s, clock.Now())
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			for range b.N {
				n, err := s.SweepReminders(ctx, benchDue)
				if err != nil || n != benchDue {
					b.Fatalf("sweep = %d, %v; want %d", n, err, benchDue)
				}
				b.StopTimer()
				resetSweep(b, s)
				b.StartTimer()
			}
			b.ReportMetric(float64(benchDue), "reminders/op")
		})
	}
}

// seedReminders inserts the leads, bookings and reminders in bulk. The
// first benchDue calls start in two hours (24h reminder overdue, 1h not yet
// due); the rest are spread over the next 30 days.
func seedReminders(b *testing.B, s *store.Store, now time.Time) {
	b.Helper()
	db := s.DB()
	var host models.User
	if err := db.Where("host = ?", true).Take(&host).Error; err != nil {
		b.Fatalf("host: %v", err)
	}
	leads := make([]models.Lead, benchBookings)
	for i := range leads {
		email := fmt.Sprintf("lead%d@example.com", i)
		leads[i] = models.Lead{EmailKey: email, Email: email, Name: fmt.Sprintf("Lead %d", i),
			TargetTitle: "Backend Engineer", Status: models.LeadNew, CreatedAt: now, UpdatedAt: now}
	}
	mustBatch(b, s, &leads, 500)
	bookings := make([]models.Booking, benchBookings)
	for i := range bookings {
		start := now.Add(2 * time.Hour)
		if i >= benchDue {
			start = now.Add(26*time.Hour + time.Duration(i)*time.Minute/2)
		}
		bookings[i] = models.Booking{UID: fmt.Sprintf("uid-%d", i), TokenHash: fmt.Sprintf("th-%d", i),
			LeadID: leads[i].ID, HostID: host.ID, Status: models.BookingConfirmed, StartAt: start,
			EndAt: start.Add(30 * time.Minute), Timezone: "Europe/Berlin", TargetTitle: "Backend Engineer",
			CreatedAt: now, UpdatedAt: now}
	}
	mustBatch(b, s, &bookings, 500)
	reminders := make([]models.Reminder, 0, 2*benchBookings)
	for _, bk := range bookings {
		for _, off := range s.Reminders() {
			reminders = append(reminders, models.Reminder{BookingID: bk.ID, Offset: off.Label,
				DueAt: bk.StartAt.Add(-off.Before), Status: models.ReminderPending, CreatedAt: now, UpdatedAt: now})
		}
	}
	// No ANALYZE: the plan must be good without statistics, as on a fresh
	// install.
	mustBatch(b, s, &reminders, 1000)
}

func mustBatch[T any](b *testing.B, s *store.Store, rows *[]T, size int) {
	b.Helper()
	if err := s.DB().CreateInBatches(rows, size).Error; err != nil {
		b.Fatalf("insert %T: %v", rows, err)
	}
}

// resetSweep undoes one sweep so the next finds the same 1,000 due.
func resetSweep(b *testing.B, s *store.Store) {
	b.Helper()
	db := s.DB()
	for _, q := range []string{
		"UPDATE reminders SET status = 'pending', sent_at = NULL WHERE status = 'sent'",
		"DELETE FROM outbox",
		"DELETE FROM events",
	} {
		if err := db.Exec(q).Error; err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
}
