// Package storetest opens real databases for tests: a fresh SQLite file per
// test, and, when CALLBOOK_TEST_POSTGRES_URL is set, a fresh PostgreSQL
// schema per test, both through the production store.Open and Migrate.
package storetest

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for schema set-up

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Clock is a settable clock for tests; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Dialects lists the databases a test should run on: SQLite always,
// PostgreSQL when CALLBOOK_TEST_POSTGRES_URL is set.
func Dialects() []string {
	if os.Getenv("CALLBOOK_TEST_POSTGRES_URL") != "" {
		return []string{store.DialectSQLite, store.DialectPostgres}
	}
	return []string{store.DialectSQLite}
}

// ForEachDialect runs fn as a subtest on every dialect in Dialects, and says
// once per test when PostgreSQL is skipped.
func ForEachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	if os.Getenv("CALLBOOK_TEST_POSTGRES_URL") == "" {
		t.Log("PostgreSQL not tested: set CALLBOOK_TEST_POSTGRES_URL to run it too")
	}
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// Options are the defaults tests open stores with.
func Options(clock *Clock) store.Options {
	loc, _ := time.LoadLocation("America/New_York")
	return store.Options{
		Secret:   []byte("test-secret-test-secret-test-secret"),
		Location: loc,
		Reminders: []models.ReminderOffset{
			{Label: "24h", Before: 24 * time.Hour}, {Label: "1h", Before: time.Hour},
		},
		Now:      clock.Now,
		MailFrom: "Callbook <no-reply@callbook.test>",
		// Calls by video, so bookings need no phone number.
		MeetingURL: "https://meet.callbook.test/call-{booking}",
		Log:        slog.New(slog.DiscardHandler),
	}
}

// URL returns a database URL for a fresh, empty database of dialect that is
// dropped when the test ends.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case store.DialectSQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "callbook.db")
	case store.DialectPostgres:
		base := os.Getenv("CALLBOOK_TEST_POSTGRES_URL")
		if base == "" {
			Missing(t, "PostgreSQL not tested: set CALLBOOK_TEST_POSTGRES_URL to run it")
		}
		schema := "t_" + strings.ToLower(store.RandomToken(8))
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse CALLBOOK_TEST_POSTGRES_URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	t.Fatalf("unknown dialect %q", dialect)
	return ""
}

// TeamEmail is the default host's address in stores opened by MustOpen.
const TeamEmail = "team@callbook.test"

// MustOpen opens and migrates a fresh store of dialect, with the default
// host created (its address TeamEmail), closed when the test ends.
func MustOpen(t testing.TB, dialect string, opts store.Options) *store.Store {
	t.Helper()
	return MustOpenURL(t, URL(t, dialect), opts)
}

// MustOpenURL opens and migrates the store at url, closed when the test ends.
func MustOpenURL(t testing.TB, url string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(url, opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := s.EnsureDefaultHost(ctx); err != nil {
		t.Fatalf("default host: %v", err)
	}
	// The team host gets a mailbox of its own, as an operator would give
	// it, so its notices go to TeamEmail rather than to the admins.
	if err := s.DB().Model(&models.User{}).Where("name = ? AND password_hash = ''", models.DefaultHostName).
		Update("email", TeamEmail).Error; err != nil {
		t.Fatalf("team host address: %v", err)
	}
	return s
}

// Visitor is a valid booking request from email for the call at start.
func Visitor(email string, start time.Time) models.BookingRequest {
	return models.BookingRequest{Name: "Visitor " + email, Email: email, TargetTitle: "Backend Engineer",
		RoleSlug: "backend-engineer", Start: start, Timezone: "Europe/Berlin"}
}

// MustBookAt books the call at start for email, failing the test unless
// exactly that slot is offered and the booking succeeds.
func MustBookAt(t testing.TB, s *store.Store, start time.Time, email string) *models.BookingResult {
	t.Helper()
	ctx := context.Background()
	slots, _, err := s.Slots(ctx, start.Add(-time.Minute), start.Add(time.Minute))
	if err != nil {
		t.Fatalf("slots: %v", err)
	}
	if len(slots) != 1 || !slots[0].Start.Equal(start) {
		t.Fatalf("no slot offered at %s (got %v)", start, slots)
	}
	res, err := s.BookSlot(ctx, Visitor(email, start), nil)
	if err != nil {
		t.Fatalf("book %s: %v", start, err)
	}
	return res
}

// Missing skips t for want of a tool or server, msg saying which and how to
// get it; under CI (CI set) it fails t instead, since .ci/run installs and
// starts everything the tests need, and a skip there would hide a test
// that never ran.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
