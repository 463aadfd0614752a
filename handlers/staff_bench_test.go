package handlers

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
	"github.com/callbook/callbook/web"
)

// The lead-list benchmark runs on a generated SQLite database of a million
// leads, kept at CALLBOOK_BENCH_STAFF_DB (default: in the temp folder) so it
// is generated once (about a minute):
//
//	CALLBOOK_BENCH_LEADS=1 go test ./handlers/ -run '^$' -bench LeadList -benchtime 200x
const staffBenchLeads = 1_000_000

// staffBenchNow is the generated data's clock: leads were created over the
// two years before it, and a fifth of them have a call in the month after.
var staffBenchNow = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

var staffBenchTitles = []string{"Backend Engineer", "Software Engineer", "Data Analyst", "Data Engineer",
	"Product Manager", "DevOps Engineer", "QA Engineer", "UX Designer"}

// staffBenchServer serves the generated database through a real HTTP
// listener and returns its URL and a signed-in sales user's cookie.
func staffBenchServer(b *testing.B) (string, string) {
	b.Helper()
	if os.Getenv("CALLBOOK_BENCH_LEADS") == "" {
		b.Skip("set CALLBOOK_BENCH_LEADS=1 to generate 1,000,000 leads and measure the lead list")
	}
	path := os.Getenv("CALLBOOK_BENCH_STAFF_DB")
	if path == "" {
		path = filepath.Join(os.TempDir(), "callbook-bench-staff-1m.db")
	}
	_, statErr := os.Stat(path)
	clock := storetest.NewClock(staffBenchNow)
	db := storetest.MustOpenURL(b, "sqlite:"+path, storetest.Options(clock))
	if statErr != nil {
		start := time.Now()
		if err := generateStaffBench(db); err != nil {
			os.Remove(path)
			b.Fatalf("generate: %v", err)
		}
		b.Logf("generated %d leads in %s at %s", staffBenchLeads, time.Since(start).Round(time.Second), path)
	}
	content, err := LoadContent(web.Content())
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{Store: db, Content: content, Clock: clock.Now, Log: slog.New(slog.DiscardHandler), BaseURL: "http://callbook.test"})
	if err != nil {
		b.Fatal(err)
	}
	var u models.User
	if err := db.DB().Where("email = ?", "bench-owner@example.com").Take(&u).Error; err != nil {
		b.Fatal(err)
	}
	ns, err := db.CreateSession(context.Background(), &u, "127.0.0.1", "bench")
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	return ts.URL, sessionCookie + "=" + ns.Token
}

// generateStaffBench bulk-inserts the leads and their calls with multi-row
// INSERTs in transactions of 100,000 leads, then gathers statistics.
func generateStaffBench(s *store.Store) error {
	db, err := s.DB().DB()
	if err != nil {
		return err
	}
	var hostID int64
	if err := db.QueryRow("SELECT id FROM users WHERE host = ?", true).Scan(&hostID); err != nil {
		return err
	}
	res, err := db.Exec(`INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
		VALUES ('bench-owner@example.com', 'Bench Owner', 'sales', 'x', ?, ?)`, staffBenchNow, staffBenchNow)
	if err != nil {
		return err
	}
	ownerID, _ := res.LastInsertId()
	for lo := 1; lo <= staffBenchLeads; lo += 100_000 {
		if err := staffBenchChunk(db, lo, min(lo+100_000, staffBenchLeads+1), hostID, ownerID); err != nil {
			return err
		}
	}
	_, err = db.Exec("ANALYZE")
	return err
}

func staffBenchChunk(db *sql.DB, lo, hi int, hostID, ownerID int64) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	leads := &rowBatch{tx: tx, width: 13, head: `INSERT INTO leads (id, email_key, email, name, target_title, role_slug, status,
		owner_id, utm_source, utm_medium, referrer, created_at, updated_at) VALUES `}
	calls := &rowBatch{tx: tx, width: 11, head: `INSERT INTO bookings (uid, token_hash, lead_id, host_id, status, start_at,
		end_at, timezone, target_title, created_at, updated_at) VALUES `}
	statuses := []string{"new", "new", "new", "new", "contacted", "contacted", "qualified", "client", "lost", "lost"}
	span := 730 * 24 * time.Hour
	for i := lo; i < hi; i++ {
		created := staffBenchNow.Add(-span + time.Duration(int64(span)/staffBenchLeads*int64(i)))
		title := staffBenchTitles[(i*7)%len(staffBenchTitles)]
		var owner any
		if i%5 == 0 {
			owner = ownerID
		}
		email := fmt.Sprintf("lead%d@example.com", i)
		if err := leads.add(i, email, email, fmt.Sprintf("Lead %d", i), title, "backend-engineer", statuses[i%len(statuses)],
			owner, []string{"google", "newsletter", ""}[i%3], "cpc", "https://example.com/", created, created); err != nil {
			return err
		}
		if i%5 == 1 {
			start := staffBenchNow.Add(time.Duration(i%(30*24)) * time.Hour).Truncate(30 * time.Minute)
			uid := fmt.Sprintf("u%d", i)
			if err := calls.add(uid, uid, i, hostID, "confirmed", start, start.Add(30*time.Minute), "UTC", title, created, created); err != nil {
				return err
			}
		}
	}
	for _, b := range []*rowBatch{leads, calls} {
		if err := b.flush(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// rowBatch gathers rows into multi-row INSERTs of 100 rows.
type rowBatch struct {
	tx    *sql.Tx
	head  string
	width int
	args  []any
}

func (r *rowBatch) add(vals ...any) error {
	r.args = append(r.args, vals...)
	if len(r.args) >= 100*r.width {
		return r.flush()
	}
	return nil
}

func (r *rowBatch) flush() error {
	n := len(r.args) / r.width
	if n == 0 {
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", r.width), ",") + ")"
	_, err := r.tx.Exec(r.head+strings.TrimSuffix(strings.Repeat(row+",", n), ","), r.args...)
	r.args = r.args[:0]
	return err
}

// BenchmarkLeadList fetches lead-list pages over HTTP, each a full answer:
// the HTML page (rows, capped count, filter choices) or the JSON page.
func BenchmarkLeadList(b *testing.B) {
	base, cookie := staffBenchServer(b)
	for _, c := range []struct{ name, path string }{
		{"page/first", "/admin/leads"},
		{"page/status+title", "/admin/leads?status=qualified&target_title=Data+Engineer"},
		{"page/owner", "/admin/leads?owner_id=2"},
		{"page/created-month", "/admin/leads?created_from=2026-03-01&created_to=2026-03-31"},
		{"page/deep-cursor", "/admin/leads?cursor=" + deepCursor(500_000)},
		{"page/search-rare", "/admin/leads?q=lead999999%40"},
		{"api/first", "/api/v1/admin/leads?limit=50"},
		{"api/status", "/api/v1/admin/leads?status=client&limit=200"},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, base+c.path, nil)
			req.Header.Set("Cookie", cookie)
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", c.path, resp.StatusCode)
				}
			}
		})
	}
}

// deepCursor is the cursor of the page after lead id, as ListLeads makes it.
func deepCursor(id int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("l%d", id)))
}
