package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// outboxT0 is a Monday morning in New York, before business hours.
var outboxT0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func openOutboxStore(t *testing.T, dialect string) (*store.Store, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(outboxT0)
	return storetest.MustOpen(t, dialect, storetest.Options(clock)), clock
}

// mustBookForOutbox books the first free slot for email; the booking queues
// a confirmation and a host notice.
func mustBookForOutbox(t *testing.T, s *store.Store, email string) *models.BookingResult {
	t.Helper()
	ctx := context.Background()
	now := s.Now()
	slots, _, err := s.Slots(ctx, now, now.Add(30*24*time.Hour))
	if err != nil || len(slots) == 0 {
		t.Fatalf("no slots (%v)", err)
	}
	res, err := s.BookSlot(ctx, models.BookingRequest{
		Name: "Ada Lovelace", Email: email, TargetTitle: "Backend Engineer",
		Start: slots[0].Start, Timezone: "Europe/Berlin",
	}, nil)
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	return res
}

// mustQueueRows inserts n pending emails due now.
func mustQueueRows(t *testing.T, s *store.Store, n int) []models.OutboxMessage {
	t.Helper()
	now := s.Now()
	rows := make([]models.OutboxMessage, n)
	for i := range rows {
		rows[i] = models.OutboxMessage{
			Kind: models.MailDigest, ToAddr: fmt.Sprintf("staff%d@example.com", i),
			MessageID: "<" + store.RandomToken(12) + "@callbook.test>", Payload: `{"kind":"digest"}`,
			Status: models.OutboxPending, NextAttemptAt: now, CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now,
		}
	}
	if err := s.DB().Create(&rows).Error; err != nil {
		t.Fatalf("queue: %v", err)
	}
	return rows
}

func mustClaim(t *testing.T, s *store.Store, limit int) []models.OutboxMessage {
	t.Helper()
	rows, err := s.ClaimOutbox(context.Background(), limit, 5*time.Minute)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return rows
}

func mustOutboxRow(t *testing.T, s *store.Store, id uint) *models.OutboxMessage {
	t.Helper()
	m, err := s.OutboxByID(context.Background(), id)
	if err != nil {
		t.Fatalf("outbox %d: %v", id, err)
	}
	return m
}

func eventsOfType(t *testing.T, s *store.Store, leadID uint, typ string) []models.Event {
	t.Helper()
	var evs []models.Event
	if err := s.DB().Where("lead_id = ? AND type = ?", leadID, typ).Find(&evs).Error; err != nil {
		t.Fatalf("events: %v", err)
	}
	return evs
}

func TestClaimOutbox_ClaimsDueRowsOnceUntilTheLeaseRunsOut(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openOutboxStore(t, dialect)
		mustQueueRows(t, s, 3)

		first := mustClaim(t, s, 10)
		if len(first) != 3 {
			t.Fatalf("claimed %d rows, want 3", len(first))
		}
		for _, m := range first {
			got := mustOutboxRow(t, s, m.ID)
			if got.Status != models.OutboxSending || got.Attempts != 1 || got.ClaimedUntil == nil ||
				!got.ClaimedUntil.Equal(outboxT0.Add(5*time.Minute)) {
				t.Fatalf("claimed row = %s attempts %d until %v", got.Status, got.Attempts, got.ClaimedUntil)
			}
		}
		if again := mustClaim(t, s, 10); len(again) != 0 {
			t.Fatalf("a held row was claimed twice: %d rows", len(again))
		}
		clock.Advance(5*time.Minute + time.Second)
		reclaimed := mustClaim(t, s, 10)
		if len(reclaimed) != 3 || reclaimed[0].Attempts != 2 {
			t.Fatalf("after the lease: %d rows, attempts %d; want 3 rows at attempt 2", len(reclaimed), reclaimed[0].Attempts)
		}
	})
}

func TestClaimOutbox_RespectsLimitAndNextAttempt(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openOutboxStore(t, dialect)
		ctx := context.Background()
		mustQueueRows(t, s, 5)
		batch := mustClaim(t, s, 2)
		if len(batch) != 2 {
			t.Fatalf("claimed %d, want the limit 2", len(batch))
		}
		if err := s.MarkOutboxRetry(ctx, batch[0], "451 try later", s.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if rest := mustClaim(t, s, 10); len(rest) != 3 {
			t.Fatalf("claimed %d, want the 3 never claimed (the retried one is not due)", len(rest))
		}
		clock.Advance(time.Minute)
		due := mustClaim(t, s, 10)
		if len(due) != 1 || due[0].ID != batch[0].ID || due[0].Attempts != 2 || due[0].LastError != "451 try later" {
			t.Fatalf("after a minute claimed %+v, want the retried row at attempt 2", due)
		}
	})
}

func TestMarkOutboxSent_StaleSenderCannotOverwrite(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openOutboxStore(t, dialect)
		ctx := context.Background()
		res := mustBookForOutbox(t, s, "ada@example.com")
		stale := mustClaim(t, s, 10)
		if len(stale) != 2 {
			t.Fatalf("booking queued %d emails, want 2", len(stale))
		}
		clock.Advance(6 * time.Minute)
		fresh := mustClaim(t, s, 10)
		if len(fresh) != 2 {
			t.Fatalf("reclaimed %d, want 2", len(fresh))
		}
		if err := s.MarkOutboxFailed(ctx, stale[0], "550 stale"); !errors.Is(err, models.ErrOutboxClaimLost) {
			t.Fatalf("stale sender's outcome: %v, want ErrOutboxClaimLost", err)
		}
		for _, m := range fresh {
			if err := s.MarkOutboxSent(ctx, m); err != nil {
				t.Fatalf("sent: %v", err)
			}
		}
		if err := s.MarkOutboxSent(ctx, fresh[0]); !errors.Is(err, models.ErrOutboxClaimLost) {
			t.Fatalf("second outcome for one claim: %v, want ErrOutboxClaimLost", err)
		}
		got := mustOutboxRow(t, s, stale[0].ID)
		if got.Status != models.OutboxSent || got.SentAt == nil || got.LastError != "" {
			t.Fatalf("row = %s sent_at %v error %q, want sent", got.Status, got.SentAt, got.LastError)
		}
		if n := len(eventsOfType(t, s, res.Lead.ID, "email.sent")); n != 2 {
			t.Fatalf("%d email.sent events, want 2", n)
		}
		if n := len(eventsOfType(t, s, res.Lead.ID, "email.failed")); n != 0 {
			t.Fatalf("%d email.failed events from a stale sender, want 0", n)
		}
	})
}

func TestRecordOutbox_WritesAGroupAndSkipsLostClaims(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openOutboxStore(t, dialect)
		ctx := context.Background()
		res := mustBookForOutbox(t, s, "ada@example.com")
		rows := mustClaim(t, s, 10)
		mustQueueRows(t, s, 1)
		clock.Advance(time.Second)
		third := mustClaim(t, s, 10)
		stale := third[0]
		stale.Attempts = 7 // not the attempt it holds: as if reclaimed since
		next := s.Now().Add(time.Hour)
		lost, err := s.RecordOutbox(ctx, []models.OutboxOutcome{
			{Message: rows[0], Status: models.OutboxSent},
			{Message: rows[1], Status: models.OutboxPending, Error: "451 later", NextAttemptAt: next},
			{Message: stale, Status: models.OutboxFailed, Error: "550 no"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(lost) != 1 || lost[0] != stale.ID {
			t.Fatalf("lost = %v, want [%d]", lost, stale.ID)
		}
		if got := mustOutboxRow(t, s, rows[0].ID); got.Status != models.OutboxSent {
			t.Errorf("first = %s, want sent", got.Status)
		}
		if got := mustOutboxRow(t, s, rows[1].ID); got.Status != models.OutboxPending || !got.NextAttemptAt.Equal(next) ||
			got.Attempts != 1 || got.LastError != "451 later" {
			t.Errorf("second = %s next %v attempts %d %q", got.Status, got.NextAttemptAt, got.Attempts, got.LastError)
		}
		if got := mustOutboxRow(t, s, stale.ID); got.Status != models.OutboxSending {
			t.Errorf("lost claim's row = %s, want untouched (sending)", got.Status)
		}
		if n := len(eventsOfType(t, s, res.Lead.ID, "email.sent")); n != 1 {
			t.Errorf("%d email.sent events, want 1", n)
		}
		if _, err := s.RecordOutbox(ctx, []models.OutboxOutcome{{Message: rows[0], Status: "bounced"}}); err == nil {
			t.Error("accepted an unknown outcome status")
		}
	})
}

func TestMarkOutboxFailed_KeepsTheAnswerAndRetryOutboxRequeues(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := openOutboxStore(t, dialect)
		ctx := context.Background()
		res := mustBookForOutbox(t, s, "ada@example.com")
		rows := mustClaim(t, s, 1)
		const answer = "550 5.1.1 no such user"
		if err := s.MarkOutboxFailed(ctx, rows[0], answer); err != nil {
			t.Fatal(err)
		}
		got := mustOutboxRow(t, s, rows[0].ID)
		if got.Status != models.OutboxFailed || got.LastError != answer || got.ClaimedUntil != nil {
			t.Fatalf("row = %s %q %v", got.Status, got.LastError, got.ClaimedUntil)
		}
		evs := eventsOfType(t, s, res.Lead.ID, "email.failed")
		if len(evs) != 1 || evs[0].BookingID == nil || *evs[0].BookingID != res.Booking.ID {
			t.Fatalf("email.failed events = %+v", evs)
		}
		var data map[string]any
		if err := json.Unmarshal([]byte(evs[0].Data), &data); err != nil {
			t.Fatal(err)
		}
		if data["error"] != answer || data["kind"] != rows[0].Kind || data["message_id"] != rows[0].MessageID ||
			data["to"] != rows[0].ToAddr {
			t.Errorf("event data = %v", data)
		}

		drainOutboxSignal(s)
		if err := s.RetryOutbox(ctx, rows[0].ID); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.OutboxSignal():
		default:
			t.Fatal("RetryOutbox did not wake the sender")
		}
		got = mustOutboxRow(t, s, rows[0].ID)
		if got.Status != models.OutboxPending || got.Attempts != 0 || got.NextAttemptAt.After(s.Now()) {
			t.Fatalf("retried row = %s attempts %d next %v", got.Status, got.Attempts, got.NextAttemptAt)
		}
		var verr *models.ValidationError
		if err := s.RetryOutbox(ctx, rows[0].ID); !errors.As(err, &verr) {
			t.Fatalf("retrying a pending email: %v, want a ValidationError", err)
		}
		if err := s.RetryOutbox(ctx, 999999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("retrying a missing email: %v, want ErrNotFound", err)
		}
	})
}

func TestReleaseOutbox_DoesNotCountTheAttemptNorMoveTheDueTime(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openOutboxStore(t, dialect)
		mustQueueRows(t, s, 2)
		due := map[uint]time.Time{}
		for _, r := range mustClaim(t, s, 10) {
			due[r.ID] = mustOutboxRow(t, s, r.ID).NextAttemptAt
		}
		clock.Advance(time.Hour)
		rows := mustClaim(t, s, 10) // the first claim's lease has run out
		if err := s.ReleaseOutbox(context.Background(), rows, "dial tcp: connection refused"); err != nil {
			t.Fatal(err)
		}
		for _, m := range rows {
			got := mustOutboxRow(t, s, m.ID)
			if got.Status != models.OutboxPending || got.Attempts != 1 || !got.NextAttemptAt.Equal(due[m.ID]) ||
				got.LastError != "dial tcp: connection refused" || got.ClaimedUntil != nil {
				t.Fatalf("released row = %s attempts %d next %v (was %v) error %q", got.Status, got.Attempts, got.NextAttemptAt, due[m.ID], got.LastError)
			}
		}
		if n := len(mustClaim(t, s, 10)); n != 2 {
			t.Fatalf("claimed %d released rows at once, want 2", n)
		}
	})
}

func TestRenewOutbox_KeepsALiveSendersRowsFromOthers(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openOutboxStore(t, dialect)
		mustQueueRows(t, s, 3)
		ctx := context.Background()
		rows, err := s.ClaimOutbox(ctx, 10, time.Minute)
		if err != nil || len(rows) != 3 {
			t.Fatalf("claim: %d rows, %v", len(rows), err)
		}
		if err := s.MarkOutboxSent(ctx, rows[0]); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			clock.Advance(40 * time.Second)
			until, err := s.RenewOutbox(ctx, rows, time.Minute)
			if err != nil || !until.Equal(s.Now().Add(time.Minute)) {
				t.Fatalf("renew: %v %v", until, err)
			}
			if n, err := s.ClaimOutbox(ctx, 10, time.Minute); err != nil || len(n) != 0 {
				t.Fatalf("another sender claimed %d renewed rows (%v)", len(n), err)
			}
		}
		if got := mustOutboxRow(t, s, rows[0].ID); got.Status != models.OutboxSent || got.ClaimedUntil != nil {
			t.Errorf("renewing touched a recorded row: %s %v", got.Status, got.ClaimedUntil)
		}
		// The sender dies: no more renewals, and a minute later the rows move.
		clock.Advance(61 * time.Second)
		taken, err := s.ClaimOutbox(ctx, 10, time.Minute)
		if err != nil || len(taken) != 2 {
			t.Fatalf("after the dead sender's lease: claimed %d (%v), want 2", len(taken), err)
		}
		// The dead sender's late renewal does not steal them back.
		if _, err := s.RenewOutbox(ctx, rows, time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, m := range taken {
			if got := mustOutboxRow(t, s, m.ID); !got.ClaimedUntil.Equal(*m.ClaimedUntil) {
				t.Errorf("row %d claimed until %v, want the new sender's %v", m.ID, got.ClaimedUntil, m.ClaimedUntil)
			}
		}
	})
}

func TestClaimOutbox_ConcurrentSendersClaimEachRowOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := openOutboxStore(t, dialect)
		const total = 120
		mustQueueRows(t, s, total)
		var mu sync.Mutex
		seen := map[uint]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for range 6 {
			wg.Go(func() {
				for {
					rows, err := s.ClaimOutbox(context.Background(), 7, time.Minute)
					if err != nil {
						errs <- err
						return
					}
					if len(rows) == 0 {
						return
					}
					mu.Lock()
					for _, m := range rows {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("claim: %v", err)
		}
		if len(seen) != total {
			t.Fatalf("claimed %d distinct rows, want %d", len(seen), total)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("row %d claimed %d times", id, n)
			}
		}
	})
}

func TestListOutbox_NewestFirstFilteredAndCounted(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := openOutboxStore(t, dialect)
		ctx := context.Background()
		queued := mustQueueRows(t, s, 4)
		rows := mustClaim(t, s, 1)
		if err := s.MarkOutboxSent(ctx, rows[0]); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListOutbox(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 4 || all[0].ID != queued[3].ID || all[3].ID != queued[0].ID {
			t.Fatalf("list order = %v, want newest first", outboxIDs(all))
		}
		sent, err := s.ListOutbox(ctx, models.OutboxSent, 10)
		if err != nil || len(sent) != 1 || sent[0].ID != rows[0].ID {
			t.Fatalf("sent list = %v (%v)", outboxIDs(sent), err)
		}
		two, _ := s.ListOutbox(ctx, models.OutboxPending, 2)
		if len(two) != 2 {
			t.Fatalf("limit 2 gave %d", len(two))
		}
		var verr *models.ValidationError
		if _, err := s.ListOutbox(ctx, "bounced", 10); !errors.As(err, &verr) {
			t.Fatalf("unknown status: %v, want a ValidationError", err)
		}
		counts, err := s.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"pending": 3, "sending": 0, "sent": 1, "failed": 0, "canceled": 0, "skipped": 0}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Fatalf("counts = %v, want %v", counts, want)
		}
	})
}

func drainOutboxSignal(s *store.Store) {
	for {
		select {
		case <-s.OutboxSignal():
		default:
			return
		}
	}
}

func outboxIDs(rows []models.OutboxMessage) []uint {
	out := make([]uint, len(rows))
	for i, m := range rows {
		out[i] = m.ID
	}
	return out
}

func TestClaimOutbox_WithdrawsRemindersWhoseCallHasBegun(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		ctx := context.Background()
		slots, _, _ := s.Slots(ctx, s.Now(), s.Now().Add(72*time.Hour))
		res, err := s.BookSlot(ctx, models.BookingRequest{Name: "Ada", Email: "ada@example.com", TargetTitle: "X",
			Start: slots[0].Start, Timezone: "UTC"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		clock.Set(res.Booking.StartAt.Add(-time.Hour))
		if _, err := s.SweepReminders(ctx, 100); err != nil {
			t.Fatal(err)
		}
		// The mail server was down until the call began.
		clock.Set(res.Booking.StartAt.Add(time.Minute))
		rows, err := s.ClaimOutbox(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if strings.HasPrefix(r.Kind, models.MailReminderPrefix) {
				t.Fatalf("claimed a reminder after the call began: %+v", r)
			}
		}
		var st string
		s.DB().Model(&models.OutboxMessage{}).Where("kind = ?", "reminder-1h").Pluck("status", &st)
		if st != models.OutboxCanceled {
			t.Fatalf("late reminder is %q, want canceled", st)
		}
	})
}
