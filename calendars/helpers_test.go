package calendars_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/calendars"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// now is a Monday a week before the US switches to summer time (8 March
// 2026) and four weeks before the EU does (29 March), so the default
// 30-day horizon spans both.
var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

var newYork, _ = time.LoadLocation("America/New_York")

// ny is a time on the business clock.
func ny(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, newYork)
}

// env is one store, its default host and a syncer.
type env struct {
	store  *store.Store
	sync   *calendars.Syncer
	hostID uint
}

func mustEnv(t *testing.T, dialect string) *env { return mustEnvOn(t, dialect) }

// mustEnvB is mustEnv on SQLite, as deployed by default, for benchmarks.
func mustEnvB(b *testing.B) *env { return mustEnvOn(b, store.DialectSQLite) }

func mustEnvOn(t testing.TB, dialect string) *env {
	t.Helper()
	clock := storetest.NewClock(now)
	st := storetest.MustOpen(t, dialect, storetest.Options(clock))
	hosts, err := st.Hosts(context.Background())
	if err != nil || len(hosts) != 1 {
		t.Fatalf("hosts: %v %v", hosts, err)
	}
	return &env{store: st, hostID: hosts[0].ID, sync: calendars.New(calendars.Options{Store: st, Client: calendars.NewHTTPClient(),
		Log: slog.New(slog.DiscardHandler)})}
}

// offered reports whether a call is offered at start.
func (e *env) offered(t *testing.T, start time.Time) bool {
	t.Helper()
	slots, _, err := e.store.Slots(context.Background(), start, start.Add(time.Second))
	if err != nil {
		t.Fatalf("slots: %v", err)
	}
	return len(slots) == 1 && slots[0].Start.Equal(start)
}

func (e *env) mustSetCalendars(t *testing.T, in ...models.CalendarSourceInput) []models.CalendarSourceView {
	t.Helper()
	out, err := e.store.SetHostCalendars(context.Background(), e.hostID, in)
	if err != nil {
		t.Fatalf("set calendars: %v", err)
	}
	if err := e.sync.SyncHost(context.Background(), e.hostID); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return out
}

func (e *env) mustSources(t *testing.T) []models.CalendarSourceView {
	t.Helper()
	out, err := e.store.HostCalendars(context.Background(), e.hostID)
	if err != nil {
		t.Fatalf("calendars: %v", err)
	}
	return out
}

// calendarText wraps events into one iCalendar file.
func calendarText(events ...string) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Callbook tests//EN\r\n")
	for _, e := range events {
		b.WriteString(strings.ReplaceAll(strings.TrimSpace(e), "\n", "\r\n"))
		b.WriteString("\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.String()
}

// feed serves an ICS file that a test can change or break.
type feed struct {
	mu     sync.Mutex
	body   string
	status int
	srv    *httptest.Server
}

func mustFeed(t *testing.T, body string) *feed { return mustFeedB(t, body) }

func mustFeedB(t testing.TB, body string) *feed {
	f := &feed{body: body, status: http.StatusOK}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.status != http.StatusOK {
			http.Error(w, "broken", f.status)
			return
		}
		w.Header().Set("Content-Type", "text/calendar")
		fmt.Fprint(w, f.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *feed) fail(status int) { f.mu.Lock(); f.status = status; f.mu.Unlock() }
