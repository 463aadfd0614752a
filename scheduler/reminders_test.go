package scheduler_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/scheduler"
	"github.com/callbook/callbook/store/storetest"
)

func TestReminders_SentExactlyAtDueNeverBeforeNeverTwice(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(mondayMorning)
		e := mustEnv(t, storetest.URL(t, dialect), storetest.Options(clock), nil)
		start := ny(time.March, 4, 10, 0)
		b := storetest.MustBookAt(t, e.store, start, "ada@example.com").Booking

		steps := []struct {
			at   time.Time
			want int
			why  string
		}{
			{start.Add(-24*time.Hour - time.Nanosecond), 0, "just before the 24h reminder is due"},
			{start.Add(-24 * time.Hour), 1, "exactly when the 24h reminder is due"},
			{start.Add(-24*time.Hour + time.Minute), 0, "a minute later: already sent"},
			{start.Add(-time.Hour - time.Nanosecond), 0, "just before the 1h reminder is due"},
			{start.Add(-time.Hour), 1, "exactly when the 1h reminder is due"},
			{start.Add(-time.Nanosecond), 0, "just before the call"},
			{start, 0, "as the call begins"},
			{start.Add(time.Hour), 0, "after the call"},
		}
		for _, st := range steps {
			if n := e.sweepAt(t, clock, st.at); n != st.want {
				t.Errorf("%s (%s): queued %d, want %d", st.why, st.at.UTC(), n, st.want)
			}
		}
		ms := reminderMails(t, e.store)
		if len(ms) != 2 || ms[0].Kind != "reminder-24h" || ms[1].Kind != "reminder-1h" {
			t.Fatalf("reminder emails = %+v, want one reminder-24h then one reminder-1h", ms)
		}
		for _, m := range ms {
			if m.BookingID != b.ID || !m.Start.Equal(start) {
				t.Errorf("%s is for booking %d at %s, want %d at %s", m.Kind, m.BookingID, m.Start, b.ID, start)
			}
		}
	})
}

func TestReminders_NeverSentOnceTheCallHasBegun(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(mondayMorning)
		e := mustEnv(t, storetest.URL(t, dialect), storetest.Options(clock), nil)
		b := storetest.MustBookAt(t, e.store, ny(time.March, 4, 10, 0), "ada@example.com").Booking
		// No sweep ran before the call: both reminders are overdue at its start.
		if n := e.sweepAt(t, clock, b.StartAt); n != 0 {
			t.Fatalf("queued %d reminders as the call began", n)
		}
		if n := e.sweepAt(t, clock, b.StartAt.Add(-time.Minute)); n != 0 {
			t.Fatalf("queued %d after the clock went back: retired reminders came back", n)
		}
		if ms := reminderMails(t, e.store); len(ms) != 0 {
			t.Fatalf("reminders sent for a call that had begun: %+v", ms)
		}
	})
}

func TestReminders_DueAtTheRightInstantInDaylightSavingWeeks(t *testing.T) {
	cases := []struct {
		name  string
		zone  *time.Location
		from  time.Time // when the call is booked
		start time.Time // a Monday 09:00 just after the change
		// due is each offset's absolute due time; 48h crosses the change, so
		// "same wall-clock time two days earlier" would be an hour off.
		due map[string]time.Time
	}{
		{
			name: "US spring forward", zone: newYork,
			from:  time.Date(2026, 3, 2, 9, 0, 0, 0, newYork),
			start: time.Date(2026, 3, 9, 9, 0, 0, 0, newYork), // 13:00 UTC, EDT
			due: map[string]time.Time{
				"48h": time.Date(2026, 3, 7, 13, 0, 0, 0, time.UTC), // Saturday 08:00 EST
				"24h": time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC),
				"1h":  time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC),
			},
		},
		{
			name: "EU summer time", zone: berlin,
			from:  time.Date(2026, 3, 23, 9, 0, 0, 0, berlin),
			start: time.Date(2026, 3, 30, 9, 0, 0, 0, berlin), // 07:00 UTC, CEST
			due: map[string]time.Time{
				"48h": time.Date(2026, 3, 28, 7, 0, 0, 0, time.UTC), // Saturday 08:00 CET
				"24h": time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC),
				"1h":  time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC),
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
				clock := storetest.NewClock(c.from)
				opts := storetest.Options(clock)
				opts.Location = c.zone
				opts.Reminders = []models.ReminderOffset{
					{Label: "48h", Before: 48 * time.Hour}, {Label: "24h", Before: 24 * time.Hour}, {Label: "1h", Before: time.Hour},
				}
				e := mustEnv(t, storetest.URL(t, dialect), opts, nil)
				storetest.MustBookAt(t, e.store, c.start, "dst@example.com")
				for _, off := range []string{"48h", "24h", "1h"} {
					due := c.due[off]
					if n := e.sweepAt(t, clock, due.Add(-time.Second)); n != 0 {
						t.Errorf("%s reminder: %d queued a second before %s", off, n, due)
					}
					if n := e.sweepAt(t, clock, due); n != 1 {
						t.Errorf("%s reminder: %d queued at %s, want 1", off, n, due)
					}
					if got := countKind(reminderMails(t, e.store), "reminder-"+off); got != 1 {
						t.Errorf("%d reminder-%s emails, want 1", got, off)
					}
				}
			})
		})
	}
}

func TestReminders_BookedInsideAnOffsetSkipsThatReminder(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(mondayMorning)
		e := mustEnv(t, storetest.URL(t, dialect), storetest.Options(clock), nil)
		soon := storetest.MustBookAt(t, e.store, ny(time.March, 2, 14, 0), "soon@example.com").Booking  // 5 hours ahead
		exact := storetest.MustBookAt(t, e.store, ny(time.March, 3, 9, 0), "exact@example.com").Booking // due exactly now
		if n := e.sweepAt(t, clock, mondayMorning); n != 0 {
			t.Fatalf("queued %d reminders already past at booking", n)
		}
		if n := e.sweepAt(t, clock, soon.StartAt.Add(-time.Hour)); n != 1 {
			t.Fatalf("1h reminder of the call booked 5h ahead: queued %d, want 1", n)
		}
		if n := e.sweepAt(t, clock, exact.StartAt.Add(-time.Hour)); n != 1 {
			t.Fatalf("1h reminder of the call booked 24h ahead: queued %d, want 1", n)
		}
		ms := reminderMails(t, e.store)
		if countKind(ms, "reminder-24h") != 0 || countKind(ms, "reminder-1h") != 2 {
			t.Fatalf("reminder emails = %+v, want only the two 1h reminders", ms)
		}
	})
}

func TestReminders_CanceledBeforeDueSendsNone(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(mondayMorning)
		e := mustEnv(t, storetest.URL(t, dialect), storetest.Options(clock), nil)
		b := storetest.MustBookAt(t, e.store, ny(time.March, 4, 10, 0), "ada@example.com").Booking
		clock.Set(ny(time.March, 3, 9, 0))
		cancelCall(t, e.store, b)
		for _, at := range []time.Time{b.StartAt.Add(-24 * time.Hour), b.StartAt.Add(-time.Hour), b.StartAt.Add(-time.Minute)} {
			if n := e.sweepAt(t, clock, at); n != 0 {
				t.Errorf("queued %d reminders at %s for a canceled call", n, at)
			}
		}
		if ms := reminderMails(t, e.store); len(ms) != 0 {
			t.Fatalf("reminders for a canceled call: %+v", ms)
		}
	})
}

func TestReminders_RescheduledBeforeDueFollowTheCall(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(mondayMorning)
		e := mustEnv(t, storetest.URL(t, dialect), storetest.Options(clock), nil)
		b := storetest.MustBookAt(t, e.store, ny(time.March, 4, 10, 0), "ada@example.com").Booking
		oldStart, newStart := b.StartAt, ny(time.March, 5, 15, 0)
		moveCall(t, e.store, b, newStart)
		if n := e.sweepAt(t, clock, oldStart.Add(-24*time.Hour)); n != 0 {
			t.Errorf("queued %d at the old due time", n)
		}
		if n := e.sweepAt(t, clock, oldStart.Add(-time.Hour)); n != 0 {
			t.Errorf("queued %d at the old 1h due time", n)
		}
		if n := e.sweepAt(t, clock, newStart.Add(-24*time.Hour)); n != 1 {
			t.Errorf("queued %d at the new due time, want 1", n)
		}
		ms := reminderMails(t, e.store)
		if len(ms) != 1 || !ms[0].Start.Equal(newStart) {
			t.Fatalf("reminder emails = %+v, want one for %s", ms, newStart)
		}
	})
}

func TestReminders_RescheduledAfterDueRemindOnceForTheNewTime(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(mondayMorning)
		e := mustEnv(t, storetest.URL(t, dialect), storetest.Options(clock), nil)
		later := storetest.MustBookAt(t, e.store, ny(time.March, 4, 10, 0), "later@example.com").Booking
		sooner := storetest.MustBookAt(t, e.store, ny(time.March, 4, 11, 0), "sooner@example.com").Booking
		if n := e.sweepAt(t, clock, ny(time.March, 3, 11, 0)); n != 2 {
			t.Fatalf("24h reminders queued %d, want 2", n)
		}
		// Moved days later: the visitor is reminded again, before the new time.
		moveCall(t, e.store, later, ny(time.March, 6, 10, 0))
		// Moved within 24 hours: its 24h reminder went already and is not redone.
		moveCall(t, e.store, sooner, ny(time.March, 4, 9, 0))
		for _, at := range []time.Time{ny(time.March, 3, 12, 0), ny(time.March, 4, 8, 0), ny(time.March, 5, 10, 0), ny(time.March, 6, 9, 0)} {
			e.sweepAt(t, clock, at)
		}
		ms := reminderMails(t, e.store)
		got := map[string]int{}
		for _, m := range ms {
			got[fmt.Sprintf("%d %s %s", m.BookingID, m.Kind, m.Start.In(newYork).Format("Jan 2 15:04"))]++
		}
		want := map[string]int{
			fmt.Sprintf("%d reminder-24h Mar 4 10:00", later.ID):  1,
			fmt.Sprintf("%d reminder-24h Mar 4 11:00", sooner.ID): 1,
			fmt.Sprintf("%d reminder-1h Mar 4 09:00", sooner.ID):  1,
			fmt.Sprintf("%d reminder-24h Mar 6 10:00", later.ID):  1,
			fmt.Sprintf("%d reminder-1h Mar 6 10:00", later.ID):   1,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("reminder emails:\n got %v\nwant %v", got, want)
		}
	})
}

func TestReminders_DueDuringDowntimeSentOnceAfterRestart(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		url := storetest.URL(t, dialect)
		clock := storetest.NewClock(mondayMorning)
		first := mustEnv(t, url, storetest.Options(clock), nil)
		b := storetest.MustBookAt(t, first.store, ny(time.March, 4, 10, 0), "ada@example.com").Booking
		missed := storetest.MustBookAt(t, first.store, ny(time.March, 4, 11, 0), "missed@example.com").Booking
		first.store.Close()

		// Down over the 24h due times; back two hours later.
		clock.Set(b.StartAt.Add(-22 * time.Hour))
		second := mustEnv(t, url, storetest.Options(clock), nil)
		if n := second.mustRun(t, scheduler.JobReminders); n != 2 {
			t.Fatalf("after restart queued %d, want the 2 overdue reminders", n)
		}
		if n := second.mustRun(t, scheduler.JobReminders); n != 0 {
			t.Fatalf("second sweep queued %d", n)
		}
		second.store.Close()

		// Down again over both calls' 1h due times and b's start.
		clock.Set(missed.StartAt.Add(-30 * time.Minute))
		third := mustEnv(t, url, storetest.Options(clock), nil)
		if n := third.mustRun(t, scheduler.JobReminders); n != 1 {
			t.Fatalf("after second restart queued %d, want only the call not yet begun", n)
		}
		ms := reminderMails(t, third.store)
		if countKind(ms, "reminder-24h") != 2 || countKind(ms, "reminder-1h") != 1 || ms[2].BookingID != missed.ID {
			t.Fatalf("reminder emails = %+v", ms)
		}
	})
}

func TestReminders_TwoProcessesSendEachReminderOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		url := storetest.URL(t, dialect)
		clock := storetest.NewClock(mondayMorning)
		a := mustEnv(t, url, storetest.Options(clock), nil)
		b := mustEnv(t, url, storetest.Options(clock), nil)
		const calls = 12
		// Due times pass while both processes sweep as fast as they can:
		// the 24h reminders in two waves, then each 1h reminder in turn.
		moments := []time.Time{ny(time.March, 4, 10, 0), ny(time.March, 4, 18, 0)}
		for i := range calls {
			b := storetest.MustBookAt(t, a.store, ny(time.March, 5, 9+i/2, 30*(i%2)), fmt.Sprintf("v%d@example.com", i)).Booking
			moments = append(moments, b.StartAt.Add(-50*time.Minute))
		}
		var wg sync.WaitGroup
		sweep := func(e *env) {
			for range 5 {
				if _, err := e.sched.RunOnce(t.Context(), scheduler.JobReminders); err != nil {
					t.Errorf("sweep: %v", err)
				}
			}
		}
		for _, at := range moments {
			clock.Set(at)
			for _, e := range []*env{a, b, a, b} {
				wg.Go(func() { sweep(e) })
			}
			wg.Wait()
		}
		ms := reminderMails(t, a.store)
		per := map[string]int{}
		for _, m := range ms {
			per[fmt.Sprintf("%d/%s", m.BookingID, m.Kind)]++
		}
		if len(ms) != 2*calls || len(per) != 2*calls {
			t.Fatalf("%d reminder emails over %d distinct (booking, kind), want %d each", len(ms), len(per), 2*calls)
		}
		handled := counterValue(t, a.reg, "callbook_job_items_total", "reminders") +
			counterValue(t, b.reg, "callbook_job_items_total", "reminders")
		if handled != 2*calls {
			t.Errorf("schedulers counted %v reminders, want %d", handled, 2*calls)
		}
	})
}
