package mailer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// BenchmarkDrain10k drains 10,000 queued confirmations (text, HTML and
// invite.ics each, with an email.sent event per row) to an in-process SMTP
// server over one reused connection. Run it with:
//
//	go test -run '^$' -bench Drain10k -benchtime 3x ./mailer/
//
// (set CALLBOOK_TEST_POSTGRES_URL to measure PostgreSQL too).
func BenchmarkDrain10k(b *testing.B) {
	const total = 10_000
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			var sent int
			for range b.N {
				b.StopTimer()
				s, clock := openStore(b, dialect)
				srv := startSMTP(b, smtpBehaviour{Discard: true})
				o := mustOutbox(b, s, clock, srv.URL("smtp"), nil) // production defaults
				queueConfirmations(b, s, total)
				b.StartTimer()
				n, err := o.Drain(context.Background())
				b.StopTimer()
				if err != nil || n != total || len(srv.Messages()) != total || srv.Conns() != 1 {
					b.Fatalf("sent %d (%v); server got %d over %d connections", n, err, len(srv.Messages()), srv.Conns())
				}
				sent += n
			}
			b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "emails/s")
		})
	}
}

// queueConfirmations books one real call and queues n confirmations for it,
// as if it had been booked n times.
func queueConfirmations(b *testing.B, s *store.Store, n int) {
	b.Helper()
	res := mustBook(b, s, 1)[0]
	d, err := s.MailDataFor(context.Background(), res.Booking, models.MailConfirmation)
	if err != nil {
		b.Fatal(err)
	}
	payload, _ := json.Marshal(d)
	now := s.Now()
	for start := 0; start < n; start += 500 {
		rows := make([]models.OutboxMessage, 0, 500)
		for i := start; i < min(n, start+500); i++ {
			rows = append(rows, models.OutboxMessage{
				Kind: models.MailConfirmation, BookingID: &res.Booking.ID, LeadID: &res.Lead.ID,
				ToAddr: fmt.Sprintf("visitor%d@example.com", i), ToName: "Visitor",
				MessageID: fmt.Sprintf("<bench-%d-%s@callbook.test>", i, store.RandomToken(6)), Payload: string(payload),
				Status: models.OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
			})
		}
		if err := s.DB().Create(&rows).Error; err != nil {
			b.Fatal(err)
		}
	}
	// The booking's own two emails are left in the queue too; drop them
	// so the count is exact.
	s.DB().Where("message_id NOT LIKE ?", "<bench-%").Delete(&models.OutboxMessage{})
}
