package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// calendarStart is a Monday morning in New York.
var calendarStart = time.Date(2026, 11, 30, 8, 0, 0, 0, mustLoc("America/New_York"))

func mustHostID(t *testing.T, s *store.Store) uint {
	t.Helper()
	hs, err := s.Hosts(context.Background())
	if err != nil || len(hs) == 0 {
		t.Fatalf("hosts: %v", err)
	}
	return hs[0].ID
}

// mustCalendarBusy gives the default host one source whose last read
// found busy.
func mustCalendarBusy(t *testing.T, s *store.Store, busy ...models.Interval) {
	t.Helper()
	ctx := context.Background()
	srcs, err := s.SetHostCalendars(ctx, mustHostID(t, s), []models.CalendarSourceInput{{URL: "https://cal.example/busy.ics"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCalendarRead(ctx, srcs[0].ID, busy); err != nil {
		t.Fatal(err)
	}
}

func TestBookSlot_CalendarBusyTimeIsRecheckedInTheTransaction(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.MustOpen(t, dialect, storetest.Options(storetest.NewClock(calendarStart)))
		tue := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, calendarStart.Location()) }
		// Buffer 15 minutes: an event until 10:00 also blocks a call at
		// 10:00, whose buffer before it would overlap.
		cfg, err := s.Availability(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg.BufferMinutes = 15
		if _, err := s.SetAvailability(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		moving := storetest.MustBookAt(t, s, tue(14, 0), "moving@example.com")
		mustCalendarBusy(t, s, models.Interval{Start: tue(9, 0).UTC(), End: tue(10, 0).UTC()})

		for _, at := range []time.Time{tue(9, 0), tue(9, 30), tue(10, 0)} {
			if _, err := s.BookSlot(ctx, storetest.Visitor("v@example.com", at), nil); !errors.Is(err, models.ErrSlotTaken) {
				t.Errorf("booking %s inside a calendar busy time: %v, want ErrSlotTaken", at.Format("15:04"), err)
			}
			if _, err := s.RescheduleBooking(ctx, moving.Token, at, ""); !errors.Is(err, models.ErrSlotTaken) {
				t.Errorf("moving to %s inside a calendar busy time: %v, want ErrSlotTaken", at.Format("15:04"), err)
			}
		}
		if _, err := s.BookSlot(ctx, storetest.Visitor("v@example.com", tue(10, 30)), nil); err != nil {
			t.Fatalf("booking after the busy time and its buffer: %v", err)
		}
	})
}

func TestHostCalendars_CredentialsAreSealedAndNeedTheSameSecret(t *testing.T) {
	ctx := context.Background()
	url := storetest.URL(t, store.DialectSQLite)
	opts := storetest.Options(storetest.NewClock(calendarStart))
	s := storetest.MustOpenURL(t, url, opts)
	host := mustHostID(t, s)
	if _, err := s.SetHostCalendars(ctx, host, []models.CalendarSourceInput{
		{Kind: "caldav", URL: "https://dav.example.com/cal/", Username: "ana", Password: "pa55word"}}); err != nil {
		t.Fatal(err)
	}
	var stored string
	s.DB().Model(&models.CalendarSource{}).Pluck("credentials_enc", &stored)
	if stored == "" || strings.Contains(stored, "pa55word") || strings.Contains(stored, "ana") {
		t.Fatalf("stored credentials %q", stored)
	}
	got, err := s.CalendarsToRead(ctx, host)
	if err != nil || len(got) != 1 || got[0].Username != "ana" || got[0].Password != "pa55word" || got[0].OpenErr != nil {
		t.Fatalf("opened: %+v %v", got, err)
	}
	s.Close()

	opts.Secret = []byte("another-secret-another-secret-another")
	other := storetest.MustOpenURL(t, url, opts)
	got, err = other.CalendarsToRead(ctx, host)
	if err != nil || len(got) != 1 || !errors.Is(got[0].OpenErr, models.ErrUnsealable) || got[0].Password != "" {
		t.Fatalf("opened with another secret: %+v %v", got, err)
	}
}

func TestNormalizeCalendarURL(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"https://calendar.google.com/calendar/ical/x/private-abc/basic.ics", "https://calendar.google.com/calendar/ical/x/private-abc/basic.ics", ""},
		{"  http://intranet:8080/cal.ics  ", "http://intranet:8080/cal.ics", ""},
		{"webcal://p01-caldav.icloud.com/published/2/abc", "https://p01-caldav.icloud.com/published/2/abc", ""},
		{"file:///etc/passwd", "", "https://"},
		{"ftp://example.com/cal.ics", "", "https://"},
		{"javascript:alert(1)", "", "https://"},
		{"https:///no-host", "", "server"},
		{"https://ana:pw@dav.example.com/", "", "password"},
		{"", "", "required"},
	}
	for _, c := range cases {
		got, err := models.NormalizeCalendarURL(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%q: %q, %v; want %q", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one mentioning %q", c.in, err, c.err)
		}
	}
}
