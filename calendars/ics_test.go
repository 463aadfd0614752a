package calendars_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

func TestICSFeed_BusyTimesHideSlots(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := mustEnv(t, dialect)
		own := storetest.MustBookAt(t, e.store, ownCallAt, "own@example.com")
		f := mustFeed(t, busyCalendarICS(own.Booking.UID+"@localhost"))
		// Before the calendar is read, every case's slot is offered.
		for _, c := range busyCalendarSlots {
			if !e.offered(t, c.start) {
				t.Fatalf("%s: not offered before any calendar was read", c.why)
			}
		}
		srcs := e.mustSetCalendars(t, models.CalendarSourceInput{URL: f.srv.URL + "/basic.ics"})
		if len(srcs) != 1 || srcs[0].Kind != models.CalendarICS {
			t.Fatalf("sources = %+v", srcs)
		}
		checkSlots(t, e)
		got := e.mustSources(t)[0]
		if got.LastSyncedAt == nil || got.LastError != nil || got.BusyCount == 0 {
			t.Fatalf("after a good read: %+v", got)
		}
	})
}

func TestICSFeed_FailingFeedKeepsLastGoodBusyTimes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := mustEnv(t, dialect)
		own := storetest.MustBookAt(t, e.store, ownCallAt, "own@example.com")
		f := mustFeed(t, busyCalendarICS(own.Booking.UID))
		e.mustSetCalendars(t, models.CalendarSourceInput{URL: f.srv.URL})
		good := e.mustSources(t)[0]

		f.fail(http.StatusInternalServerError)
		if _, err := e.sync.SyncAll(context.Background()); err != nil {
			t.Fatalf("sync: %v", err)
		}
		bad := e.mustSources(t)[0]
		if bad.LastError == nil || !strings.Contains(*bad.LastError, "500") {
			t.Fatalf("last_error = %v, want the server's 500", bad.LastError)
		}
		if !bad.LastSyncedAt.Equal(*good.LastSyncedAt) || bad.BusyCount != good.BusyCount {
			t.Fatalf("a failed read changed the last good one: %+v, was %+v", bad, good)
		}
		checkSlots(t, e)

		// A feed that answers with something other than a calendar fails too.
		f.fail(http.StatusOK)
		f.mu.Lock()
		f.body = "<html>Sign in</html>"
		f.mu.Unlock()
		if _, err := e.sync.SyncAll(context.Background()); err != nil {
			t.Fatalf("sync: %v", err)
		}
		if got := e.mustSources(t)[0]; got.LastError == nil || got.BusyCount != good.BusyCount {
			t.Fatalf("after a non-calendar answer: %+v", got)
		}
		checkSlots(t, e)

		// Once it answers again, its error clears.
		f.mu.Lock()
		f.body = calendarText()
		f.mu.Unlock()
		if _, err := e.sync.SyncAll(context.Background()); err != nil {
			t.Fatalf("sync: %v", err)
		}
		if got := e.mustSources(t)[0]; got.LastError != nil || got.BusyCount != 0 {
			t.Fatalf("after recovering: %+v", got)
		}
		if !e.offered(t, ny(3, 5, 9, 0)) {
			t.Fatalf("a slot stays hidden after its event left the calendar")
		}
	})
}
