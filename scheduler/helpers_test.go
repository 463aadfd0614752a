package scheduler_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/scheduler"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

var (
	newYork = mustLoc("America/New_York")
	berlin  = mustLoc("Europe/Berlin")
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// ny is a wall-clock time in New York, the tests' business zone.
func ny(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, newYork)
}

// mondayMorning is Monday 2 March 2026, 09:00 New York: a week before the
// US daylight-saving change, with free default hours ahead.
var mondayMorning = ny(time.March, 2, 9, 0)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is one process: a store and its scheduler.
type env struct {
	store *store.Store
	sched *scheduler.Scheduler
	reg   *prometheus.Registry
}

// mustEnv opens the database at url as one more process would.
func mustEnv(t testing.TB, url string, opts store.Options, outbox scheduler.Drainer) *env {
	t.Helper()
	s := storetest.MustOpenURL(t, url, opts)
	reg := prometheus.NewRegistry()
	sc, err := scheduler.New(scheduler.Options{Store: s, Outbox: outbox, Tick: time.Second, Log: quiet, Registerer: reg})
	if err != nil {
		t.Fatalf("new scheduler: %v", err)
	}
	return &env{store: s, sched: sc, reg: reg}
}

// mustRun runs job once and returns the items it handled.
func (e *env) mustRun(t testing.TB, job string) int {
	t.Helper()
	n, err := e.sched.RunOnce(context.Background(), job)
	if err != nil {
		t.Fatalf("run %s: %v", job, err)
	}
	return n
}

// sweepAt moves the clock to at and runs the reminder job there.
func (e *env) sweepAt(t testing.TB, clock *storetest.Clock, at time.Time) int {
	t.Helper()
	clock.Set(at)
	return e.mustRun(t, scheduler.JobReminders)
}

// sentReminder is one reminder email found in the outbox.
type sentReminder struct {
	BookingID uint
	Kind      string
	Start     time.Time
}

// reminderMails lists the reminder emails in the outbox, oldest first.
func reminderMails(t testing.TB, s *store.Store) []sentReminder {
	t.Helper()
	var rows []models.OutboxMessage
	if err := s.DB().Where("kind LIKE ?", models.MailReminderPrefix+"%").Order("id").Find(&rows).Error; err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	out := make([]sentReminder, 0, len(rows))
	for _, r := range rows {
		var d models.MailData
		if err := json.Unmarshal([]byte(r.Payload), &d); err != nil {
			t.Fatalf("payload of %d: %v", r.ID, err)
		}
		if d.Kind != r.Kind || d.Offset == "" || r.Kind != models.MailReminderPrefix+d.Offset {
			t.Errorf("outbox %d: kind %q, payload kind %q offset %q", r.ID, r.Kind, d.Kind, d.Offset)
		}
		out = append(out, sentReminder{BookingID: d.BookingID, Kind: r.Kind, Start: d.Start})
	}
	return out
}

// countKind counts reminder emails of kind (all bookings).
func countKind(ms []sentReminder, kind string) int {
	n := 0
	for _, m := range ms {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

// moveCall changes a booking's time directly, as a reschedule would, and
// re-derives its reminders.
func moveCall(t testing.TB, s *store.Store, b *models.Booking, start time.Time) {
	t.Helper()
	end := start.Add(b.EndAt.Sub(b.StartAt))
	if err := s.DB().Model(&models.Booking{}).Where("id = ?", b.ID).
		Updates(map[string]any{"start_at": start.UTC(), "end_at": end.UTC()}).Error; err != nil {
		t.Fatalf("move booking: %v", err)
	}
	if err := s.RescheduleReminders(context.Background(), b.ID); err != nil {
		t.Fatalf("reschedule reminders: %v", err)
	}
}

// cancelCall cancels a booking directly, as cancel will: the booking and
// its pending reminders.
func cancelCall(t testing.TB, s *store.Store, b *models.Booking) {
	t.Helper()
	db := s.DB()
	if err := db.Model(&models.Booking{}).Where("id = ?", b.ID).Update("status", models.BookingCanceled).Error; err != nil {
		t.Fatalf("cancel booking: %v", err)
	}
	if err := db.Model(&models.Reminder{}).Where("booking_id = ? AND status = ?", b.ID, models.ReminderPending).
		Update("status", models.ReminderCanceled).Error; err != nil {
		t.Fatalf("cancel reminders: %v", err)
	}
}

// counterValue reads one job's counter from reg.
func counterValue(t testing.TB, reg *prometheus.Registry, name, job string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "job" && l.GetValue() == job {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{job=%q}", name, job)
	return 0
}
