package calendars_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// davBackend is an in-memory CalDAV store with one collection,
// /dav/calendars/ana/work/, behind basic auth.
type davBackend struct {
	mu      sync.Mutex
	objects map[string]*ical.Calendar
	broken  bool
}

const davCollection = "/dav/calendars/ana/work/"

func (b *davBackend) CurrentUserPrincipal(context.Context) (string, error) { return "/dav/ana/", nil }
func (b *davBackend) CalendarHomeSetPath(context.Context) (string, error) {
	return "/dav/calendars/ana/", nil
}
func (b *davBackend) CreateCalendar(context.Context, *caldav.Calendar) error {
	return fmt.Errorf("read-only")
}
func (b *davBackend) ListCalendars(ctx context.Context) ([]caldav.Calendar, error) {
	c, _ := b.GetCalendar(ctx, davCollection)
	return []caldav.Calendar{*c}, nil
}
func (b *davBackend) GetCalendar(context.Context, string) (*caldav.Calendar, error) {
	return &caldav.Calendar{Path: davCollection, Name: "Work", SupportedComponentSet: []string{"VEVENT"}}, nil
}
func (b *davBackend) GetCalendarObject(_ context.Context, path string, _ *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cal, ok := b.objects[path]; ok {
		return &caldav.CalendarObject{Path: path, Data: cal}, nil
	}
	return nil, fmt.Errorf("no object %s", path)
}
func (b *davBackend) ListCalendarObjects(_ context.Context, path string, _ *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.broken {
		return nil, fmt.Errorf("storage offline")
	}
	var out []caldav.CalendarObject
	for p, cal := range b.objects {
		if strings.HasPrefix(p, path) {
			out = append(out, caldav.CalendarObject{Path: p, Data: cal})
		}
	}
	return out, nil
}
func (b *davBackend) QueryCalendarObjects(ctx context.Context, path string, q *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	all, err := b.ListCalendarObjects(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	return caldav.Filter(q, all)
}
func (b *davBackend) PutCalendarObject(context.Context, string, *ical.Calendar, *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	return nil, fmt.Errorf("read-only")
}
func (b *davBackend) DeleteCalendarObject(context.Context, string) error {
	return fmt.Errorf("read-only")
}

// mustDAV serves busyCalendar, one object per UID, to ana:secret only.
func mustDAV(t *testing.T, ownUID string) (*davBackend, *httptest.Server) {
	t.Helper()
	b := &davBackend{objects: map[string]*ical.Calendar{}}
	for i, group := range busyCalendar {
		evs := make([]string, len(group))
		for j, e := range group {
			evs[j] = fillOwn(e, ownUID)
		}
		cal, err := ical.NewDecoder(strings.NewReader(calendarText(evs...))).Decode()
		if err != nil {
			t.Fatalf("decode case %d: %v", i, err)
		}
		b.objects[fmt.Sprintf("%sevent-%d.ics", davCollection, i)] = cal
	}
	h := &caldav.Handler{Backend: b, Prefix: "/dav"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ana" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="dav"`)
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return b, srv
}

func TestCalDAV_BusyTimesHideSlots(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := mustEnv(t, dialect)
		own := storetest.MustBookAt(t, e.store, ownCallAt, "own@example.com")
		_, srv := mustDAV(t, own.Booking.UID+"@localhost")
		srcs := e.mustSetCalendars(t, models.CalendarSourceInput{Kind: "caldav", URL: srv.URL + davCollection,
			Username: "ana", Password: "secret"})
		if len(srcs) != 1 || srcs[0].Kind != models.CalendarCalDAV || !srcs[0].HasCredentials {
			t.Fatalf("sources = %+v", srcs)
		}
		if got := e.mustSources(t)[0]; got.LastError != nil || got.BusyCount == 0 {
			t.Fatalf("after a good read: %+v (error %v)", got, deref(got.LastError))
		}
		checkSlots(t, e)
	})
}

func TestCalDAV_WrongPasswordAndOutageKeepLastGoodBusyTimes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := mustEnv(t, dialect)
		own := storetest.MustBookAt(t, e.store, ownCallAt, "own@example.com")
		b, srv := mustDAV(t, own.Booking.UID)
		url := srv.URL + davCollection
		e.mustSetCalendars(t, models.CalendarSourceInput{Kind: "caldav", URL: url, Username: "ana", Password: "secret"})
		good := e.mustSources(t)[0]

		b.mu.Lock()
		b.broken = true
		b.mu.Unlock()
		if _, err := e.sync.SyncAll(context.Background()); err != nil {
			t.Fatalf("sync: %v", err)
		}
		got := e.mustSources(t)[0]
		if got.LastError == nil || got.BusyCount != good.BusyCount || !got.LastSyncedAt.Equal(*good.LastSyncedAt) {
			t.Fatalf("after an outage: %+v (error %v)", got, deref(got.LastError))
		}
		checkSlots(t, e)

		// Saving the same source without credentials keeps them; a wrong
		// password is refused by the server and shown.
		b.mu.Lock()
		b.broken = false
		b.mu.Unlock()
		e.mustSetCalendars(t, models.CalendarSourceInput{Kind: "caldav", URL: url})
		if got := e.mustSources(t)[0]; got.LastError != nil || got.ID != good.ID {
			t.Fatalf("resaved without credentials: %+v (error %v)", got, deref(got.LastError))
		}
		e.mustSetCalendars(t, models.CalendarSourceInput{Kind: "caldav", URL: url, Username: "ana", Password: "wrong"})
		got = e.mustSources(t)[0]
		if got.LastError == nil || !strings.Contains(*got.LastError, "401") {
			t.Fatalf("wrong password: error %v, want a 401", deref(got.LastError))
		}
		checkSlots(t, e)
	})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
