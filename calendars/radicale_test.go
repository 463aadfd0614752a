package calendars_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/callbook/callbook/calendars"
	"github.com/callbook/callbook/calendars/radicaletest"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// mustRadicale starts Radicale with ana's calendars: Work and Personal
// (events), Tasks (to-dos only) and an address book, and the busy
// calendar's events in Work.
func mustRadicale(t *testing.T) *radicaletest.Server {
	t.Helper()
	r := radicaletest.Start(t)
	r.MakeCalendar("/ana/work/", "Work", "VEVENT")
	r.MakeCalendar("/ana/personal/", "Personal", "VEVENT", "VTODO")
	r.MakeCalendar("/ana/tasks/", "Tasks", "VTODO")
	r.MakeAddressBook("/ana/contacts/")
	for i, group := range busyCalendar {
		evs := make([]string, len(group))
		for j, e := range group {
			evs[j] = fillOwn(e, "not-ours")
		}
		r.Put(fmt.Sprintf("/ana/work/event-%02d.ics", i), calendarText(evs...))
	}
	return r
}

func TestRadicale_ACalendarIsReadAndOtherAddressesSayWhatTheyAre(t *testing.T) {
	e := mustEnv(t, store.DialectSQLite)
	r := mustRadicale(t)
	cases := []struct {
		path, want string
	}{
		{"/", "a folder"},
		{"/ana/", "a user's account"},
		{"/ana/contacts/", "an address book"},
		{"/ana/work/event-00.ics", "a single file"},
	}
	for _, c := range cases {
		e.mustSetCalendars(t, models.CalendarSourceInput{Kind: "caldav", URL: r.URL + c.path, Username: r.Username, Password: r.Password})
		got := e.mustSources(t)[0]
		if got.LastError == nil || !strings.Contains(*got.LastError, c.want) || !strings.Contains(*got.LastError, "not a calendar") ||
			!strings.Contains(*got.LastError, "Find calendars") {
			t.Errorf("%s: last_error %q, want it named %q", c.path, deref(got.LastError), c.want)
		}
	}
	e.mustSetCalendars(t, models.CalendarSourceInput{Kind: "caldav", URL: r.URL + "/ana/work/", Username: r.Username, Password: r.Password})
	if got := e.mustSources(t)[0]; got.LastError != nil || got.BusyCount == 0 {
		t.Fatalf("the Work calendar: %+v (error %s)", got, deref(got.LastError))
	}
	for _, c := range busyCalendarSlots {
		if c.why == "event with one of our own calls' UIDs" {
			continue // not one of ours here
		}
		if got := e.offered(t, c.start); got != c.offered {
			t.Errorf("%s: offered = %v, want %v", c.why, got, c.offered)
		}
	}
}

func TestRadicale_DiscoveryListsTheAccountsCalendarsOfEvents(t *testing.T) {
	e := mustEnv(t, store.DialectSQLite)
	r := mustRadicale(t)
	sync := calendars.New(calendars.Options{Store: e.store, AllowPrivate: true, Log: slog.New(slog.DiscardHandler)})
	want := []models.FoundCalendar{{URL: r.URL + "/ana/personal/", Name: "Personal"}, {URL: r.URL + "/ana/work/", Name: "Work"}}
	for _, start := range []string{"", "/", "/ana/", "/ana/work/"} {
		got, err := sync.Discover(context.Background(), models.CalendarSourceInput{URL: r.URL + start, Username: r.Username, Password: r.Password})
		if err != nil {
			t.Fatalf("from %q: %v", start, err)
		}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("from %q: %+v, want %+v", start, got, want)
		}
	}
	_, err := sync.Discover(context.Background(), models.CalendarSourceInput{URL: r.URL + "/", Username: r.Username, Password: "wrong"})
	var verr *models.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(verr.Fields["url"], "401") {
		t.Fatalf("wrong password: %v, want a 401 on url", err)
	}
	// The address rule holds for discovery too.
	guarded := calendars.New(calendars.Options{Store: e.store, Log: slog.New(slog.DiscardHandler)})
	if _, err := guarded.Discover(context.Background(), models.CalendarSourceInput{URL: r.URL, Username: r.Username, Password: r.Password}); !errors.As(err, &verr) ||
		!strings.Contains(verr.Fields["url"], "CALLBOOK_CALENDAR_ALLOW_PRIVATE") {
		t.Fatalf("a private server without the setting: %v", err)
	}
}
