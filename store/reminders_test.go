package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

var newYork = mustLoc("America/New_York")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// monday0900 is Monday 2 March 2026, 09:00 in New York: before the US
// daylight-saving change, with a free week of default hours ahead.
var monday0900 = time.Date(2026, 3, 2, 9, 0, 0, 0, newYork)

// outboxOf returns the outbox rows of kind, oldest first.
func outboxOf(t testing.TB, s *store.Store, kind string) []models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	if err := s.DB().Where("kind = ?", kind).Order("id").Find(&rows).Error; err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return rows
}

func mustSweep(t testing.TB, s *store.Store, limit int) int {
	t.Helper()
	n, err := s.SweepReminders(context.Background(), limit)
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return n
}

func reminderStatus(t testing.TB, s *store.Store, bookingID uint, offset string) string {
	t.Helper()
	var r models.Reminder
	if err := s.DB().Where("booking_id = ? AND offset_label = ?", bookingID, offset).Take(&r).Error; err != nil {
		t.Fatalf("reminder %d/%s: %v", bookingID, offset, err)
	}
	return r.Status
}

func TestSweepReminders_DueQueryUsesStatusDueIndex(t *testing.T) {
	clock := storetest.NewClock(monday0900)
	s := storetest.MustOpen(t, store.DialectSQLite, storetest.Options(clock))
	q := s.DueRemindersSQL(clock.Now(), 100)
	rows, err := s.DB().Raw("EXPLAIN QUERY PLAN " + q).Rows()
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("scan plan: %v", err)
		}
		plan = append(plan, detail)
	}
	all := strings.Join(plan, "\n")
	if !strings.Contains(all, "reminders USING INDEX ix_reminders_status_due") &&
		!strings.Contains(all, "reminders USING COVERING INDEX ix_reminders_status_due") {
		t.Errorf("sweep does not search ix_reminders_status_due:\n%s", all)
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN ") {
			t.Errorf("sweep scans a whole table (%q):\n%s", line, all)
		}
		if strings.Contains(line, "TEMP B-TREE") {
			t.Errorf("sweep sorts instead of reading the index in order (%q)", line)
		}
	}
	t.Logf("plan:\n%s", all)
}

func TestSweepReminders_QueuesEachDueReminderOnceWithEvent(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		start := time.Date(2026, 3, 4, 10, 0, 0, 0, newYork)
		res := storetest.MustBookAt(t, s, start, "ada@example.com")

		clock.Set(start.Add(-24 * time.Hour))
		if n := mustSweep(t, s, 100); n != 1 {
			t.Fatalf("sweep at due queued %d, want 1", n)
		}
		if n := mustSweep(t, s, 100); n != 0 {
			t.Fatalf("second sweep queued %d, want 0", n)
		}
		rows := outboxOf(t, s, "reminder-24h")
		if len(rows) != 1 {
			t.Fatalf("got %d reminder-24h rows, want 1", len(rows))
		}
		var d models.MailData
		if err := json.Unmarshal([]byte(rows[0].Payload), &d); err != nil {
			t.Fatalf("payload: %v", err)
		}
		if d.Kind != "reminder-24h" || d.Offset != "24h" || d.BookingID != res.Booking.ID ||
			!d.Start.Equal(start) || d.Timezone != "Europe/Berlin" || rows[0].ToAddr != "ada@example.com" {
			t.Errorf("payload = %+v to %s", d, rows[0].ToAddr)
		}
		if rows[0].BookingID == nil || *rows[0].BookingID != res.Booking.ID {
			t.Errorf("outbox row not tied to booking %d", res.Booking.ID)
		}
		var events int64
		s.DB().Model(&models.Event{}).Where("type = ? AND booking_id = ?", models.EventReminderSent, res.Booking.ID).Count(&events)
		if events != 1 {
			t.Errorf("got %d reminder.sent events, want 1", events)
		}
		if st := reminderStatus(t, s, res.Booking.ID, "24h"); st != models.ReminderSent {
			t.Errorf("24h reminder is %s, want sent", st)
		}
		if st := reminderStatus(t, s, res.Booking.ID, "1h"); st != models.ReminderPending {
			t.Errorf("1h reminder is %s, want pending", st)
		}
	})
}

func TestSweepReminders_RetiresBegunAndCanceledCalls(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		begun := storetest.MustBookAt(t, s, time.Date(2026, 3, 4, 10, 0, 0, 0, newYork), "begun@example.com")
		canceled := storetest.MustBookAt(t, s, time.Date(2026, 3, 4, 11, 0, 0, 0, newYork), "canceled@example.com")
		// Canceled by a path that forgot its reminders: the sweep still never sends them.
		if err := s.DB().Model(&models.Booking{}).Where("id = ?", canceled.Booking.ID).
			Update("status", models.BookingCanceled).Error; err != nil {
			t.Fatal(err)
		}
		clock.Set(begun.Booking.StartAt)
		if n := mustSweep(t, s, 100); n != 0 {
			t.Fatalf("queued %d reminders for calls begun or canceled", n)
		}
		for _, c := range []struct {
			id   uint
			want string
		}{{begun.Booking.ID, models.ReminderSkipped}, {canceled.Booking.ID, models.ReminderCanceled}} {
			for _, off := range []string{"24h", "1h"} {
				if st := reminderStatus(t, s, c.id, off); st != c.want {
					t.Errorf("booking %d %s reminder is %s, want %s", c.id, off, st, c.want)
				}
			}
		}
		if n := len(outboxOf(t, s, "reminder-24h")) + len(outboxOf(t, s, "reminder-1h")); n != 0 {
			t.Errorf("%d reminder emails queued", n)
		}
	})
}

func TestSweepReminders_LimitTakesOldestDueFirst(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		var ids []uint
		for i, h := range []int{14, 10, 12} {
			res := storetest.MustBookAt(t, s, time.Date(2026, 3, 4, h, 0, 0, 0, newYork), fmt.Sprintf("v%d@example.com", i))
			ids = append(ids, res.Booking.ID)
		}
		clock.Set(time.Date(2026, 3, 3, 15, 0, 0, 0, newYork)) // all three 24h reminders due
		if n := mustSweep(t, s, 2); n != 2 {
			t.Fatalf("limit 2 queued %d", n)
		}
		if st := reminderStatus(t, s, ids[0], "24h"); st != models.ReminderPending {
			t.Errorf("the latest-due reminder went first (status %s)", st)
		}
		if n := mustSweep(t, s, 2); n != 1 {
			t.Fatalf("second sweep queued %d, want the last 1", n)
		}
	})
}

func TestSweepReminders_ConcurrentSweepsQueueOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		url := storetest.URL(t, dialect)
		a := storetest.MustOpenURL(t, url, storetest.Options(clock))
		b := storetest.MustOpenURL(t, url, storetest.Options(clock))
		const calls = 8
		for i := range calls {
			storetest.MustBookAt(t, a, time.Date(2026, 3, 5, 9+i/2, 30*(i%2), 0, 0, newYork), fmt.Sprintf("c%d@example.com", i))
		}
		clock.Set(time.Date(2026, 3, 4, 18, 0, 0, 0, newYork))
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, s := range []*store.Store{a, b, a, b} {
			wg.Go(func() {
				for range 5 {
					n, err := s.SweepReminders(context.Background(), 3)
					if err != nil {
						t.Errorf("sweep: %v", err)
						return
					}
					mu.Lock()
					total += n
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if total != calls {
			t.Errorf("sweeps reported %d queued, want %d", total, calls)
		}
		if n := len(outboxOf(t, a, "reminder-24h")); n != calls {
			t.Errorf("%d reminder-24h emails for %d calls", n, calls)
		}
	})
}

func TestRescheduleReminders_RefusesUnknownAndClosedBookings(t *testing.T) {
	clock := storetest.NewClock(monday0900)
	s := storetest.MustOpen(t, store.DialectSQLite, storetest.Options(clock))
	ctx := context.Background()
	if err := s.RescheduleReminders(ctx, 999); err != models.ErrNotFound {
		t.Errorf("unknown booking: %v, want ErrNotFound", err)
	}
	res := storetest.MustBookAt(t, s, time.Date(2026, 3, 4, 10, 0, 0, 0, newYork), "x@example.com")
	s.DB().Model(&models.Booking{}).Where("id = ?", res.Booking.ID).Update("status", models.BookingCanceled)
	if err := s.RescheduleReminders(ctx, res.Booking.ID); err != models.ErrBookingClosed {
		t.Errorf("canceled booking: %v, want ErrBookingClosed", err)
	}
}

// mustStaff creates a staff user; signIn false leaves it without a password.
func mustStaff(t testing.TB, s *store.Store, email, role string, signIn, disabled bool) {
	t.Helper()
	u := models.User{Email: email, Name: "Staff " + email, Role: role, Disabled: disabled}
	if signIn {
		u.PasswordHash = "$argon2id$test"
	}
	if err := s.DB().Create(&u).Error; err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
}

func mustDigest(t testing.TB, s *store.Store, at time.Time) int {
	t.Helper()
	n, err := s.QueueDigest(context.Background(), at)
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return n
}

func TestQueueDigest_NothingToTellSendsNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		mustStaff(t, s, "sales@example.com", models.RoleSales, true, false)
		if n := mustDigest(t, s, clock.Now()); n != 0 {
			t.Fatalf("queued %d digests with no calls and no leads", n)
		}
	})
}

func TestQueueDigest_TodaysCallsAndYesterdaysLeadsToActiveStaffOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		mustStaff(t, s, "sales@example.com", models.RoleSales, true, false)
		mustStaff(t, s, "admin@example.com", models.RoleAdmin, true, false)
		mustStaff(t, s, "gone@example.com", models.RoleSales, true, true)
		mustStaff(t, s, "nopass@example.com", models.RoleSales, false, false)
		// Booked on Monday: Tuesday's 14:00 call and a lead created on Monday.
		call := storetest.MustBookAt(t, s, time.Date(2026, 3, 3, 14, 0, 0, 0, newYork), "ada@example.com")
		storetest.MustBookAt(t, s, time.Date(2026, 3, 4, 14, 0, 0, 0, newYork), "bob@example.com")

		clock.Set(time.Date(2026, 3, 3, 8, 0, 0, 0, newYork))
		if n := mustDigest(t, s, clock.Now()); n != 2 {
			t.Fatalf("queued %d digests, want 2 (sales and admin)", n)
		}
		if n := mustDigest(t, s, clock.Now().Add(time.Hour)); n != 0 {
			t.Fatalf("a second run on the same date queued %d", n)
		}
		rows := outboxOf(t, s, models.MailDigest)
		got := map[string]bool{}
		for _, r := range rows {
			got[r.ToAddr] = true
			if r.BookingID != nil || r.LeadID != nil {
				t.Errorf("digest to %s is tied to a booking or lead", r.ToAddr)
			}
		}
		if len(rows) != 2 || !got["sales@example.com"] || !got["admin@example.com"] {
			t.Fatalf("digest recipients = %v", got)
		}
		var d models.MailData
		if err := json.Unmarshal([]byte(rows[0].Payload), &d); err != nil || d.Digest == nil {
			t.Fatalf("payload %s: %v", rows[0].Payload, err)
		}
		dg := d.Digest
		if dg.Date != "2026-03-03" || len(dg.TodayCalls) != 1 || len(dg.NewLeads) != 2 {
			t.Fatalf("digest = %+v", dg)
		}
		c := dg.TodayCalls[0]
		if !c.Start.Equal(call.Booking.StartAt) || c.Name != "Visitor ada@example.com" ||
			c.TargetTitle != "Backend Engineer" || c.HostName != models.DefaultHostName || c.LeadID != call.Lead.ID {
			t.Errorf("today's call = %+v", c)
		}
		if dg.NewLeads[0].Name != "Visitor ada@example.com" || dg.NewLeads[0].RoleSlug != "backend-engineer" {
			t.Errorf("new lead = %+v", dg.NewLeads[0])
		}
	})
}

func TestQueueDigest_TwoProcessesSendOneDigest(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		url := storetest.URL(t, dialect)
		a := storetest.MustOpenURL(t, url, storetest.Options(clock))
		b := storetest.MustOpenURL(t, url, storetest.Options(clock))
		mustStaff(t, a, "sales@example.com", models.RoleSales, true, false)
		storetest.MustBookAt(t, a, time.Date(2026, 3, 3, 14, 0, 0, 0, newYork), "ada@example.com")
		clock.Set(time.Date(2026, 3, 3, 8, 0, 0, 0, newYork))
		var wg sync.WaitGroup
		for _, s := range []*store.Store{a, b, a, b} {
			wg.Go(func() {
				if _, err := s.QueueDigest(context.Background(), clock.Now()); err != nil {
					t.Errorf("digest: %v", err)
				}
			})
		}
		wg.Wait()
		if n := len(outboxOf(t, a, models.MailDigest)); n != 1 {
			t.Errorf("%d digests queued for one recipient and one date", n)
		}
	})
}

func TestCleanUp_RemovesExpiredRowsAndFlagsMissingOutcomes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(monday0900)
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		db := s.DB()
		past := storetest.MustBookAt(t, s, time.Date(2026, 3, 2, 14, 0, 0, 0, newYork), "past@example.com")
		future := storetest.MustBookAt(t, s, time.Date(2026, 3, 4, 14, 0, 0, 0, newYork), "future@example.com")
		now := time.Date(2026, 3, 3, 9, 0, 0, 0, newYork).UTC() // stored times are UTC
		clock.Set(now)
		mustCreate(t, s,
			&models.IdempotencyKey{Key: "old", BodyHash: "h", Response: "{}", CreatedAt: now.Add(-25 * time.Hour)},
			&models.IdempotencyKey{Key: "new", BodyHash: "h", Response: "{}", CreatedAt: now.Add(-23 * time.Hour)},
			&models.Session{ID: "expired", UserID: 1, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(-time.Second)},
			&models.Session{ID: "live", UserID: 1, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
			&models.LoginAttempt{Email: "a@example.com", IP: "1", CreatedAt: now.Add(-25 * time.Hour)},
			&models.LoginAttempt{Email: "a@example.com", IP: "1", CreatedAt: now.Add(-time.Hour)},
			&models.Setting{Key: "digest:2026-01-01", Value: "x"},
			&models.Setting{Key: "digest:2026-03-02", Value: "x"},
		)
		res, err := s.CleanUp(context.Background())
		if err != nil {
			t.Fatalf("clean-up: %v", err)
		}
		want := models.CleanupResult{IdempotencyKeys: 1, OutcomesMissing: 1, Sessions: 1, LoginAttempts: 1, DigestMarks: 1}
		if dialect == store.DialectPostgres {
			want.StatsFolded = 1 // the booked call's date and title, counted in its connection's part
		}
		if res != want {
			t.Errorf("clean-up = %+v, want %+v", res, want)
		}
		var keys, sessions, attempts, marks int64
		db.Model(&models.IdempotencyKey{}).Where("key = ?", "new").Count(&keys)
		db.Model(&models.Session{}).Where("id = ?", "live").Count(&sessions)
		db.Model(&models.LoginAttempt{}).Count(&attempts)
		db.Model(&models.Setting{}).Where("key = ?", "digest:2026-03-02").Count(&marks)
		if keys != 1 || sessions != 1 || attempts != 1 || marks != 1 {
			t.Errorf("clean-up removed live rows: keys %d sessions %d attempts %d marks %d", keys, sessions, attempts, marks)
		}
		for _, c := range []struct {
			id   uint
			want bool
		}{{past.Booking.ID, true}, {future.Booking.ID, false}} {
			var b models.Booking
			db.Take(&b, c.id)
			if b.OutcomeMissing != c.want {
				t.Errorf("booking %d outcome_missing = %v, want %v", c.id, b.OutcomeMissing, c.want)
			}
		}
		if again, err := s.CleanUp(context.Background()); err != nil || again.Total() != 0 {
			t.Errorf("second clean-up = %+v, %v; want nothing to do", again, err)
		}
	})
}

func mustCreate(t testing.TB, s *store.Store, rows ...any) {
	t.Helper()
	for _, r := range rows {
		if err := s.DB().Create(r).Error; err != nil {
			t.Fatalf("create %T: %v", r, err)
		}
	}
}
