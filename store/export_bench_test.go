package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// The export and dashboard benchmarks run on a generated SQLite database of
// benchLeads leads, kept at CALLBOOK_BENCH_DB (default: in the temp folder)
// so it is generated once:
//
//	CALLBOOK_BENCH_EXPORT=1 go test ./models/ -run MillionLeads -v -timeout 30m
//	CALLBOOK_BENCH_EXPORT=1 go test ./models/ -run '^$' -bench 'ExportLeads|Stats' -benchtime 5x
const benchLeads = 1_000_000

// benchNow is the clock of the generated data: leads were created over the
// two years before it.
var benchNow = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

var benchTitles = []string{"Backend Engineer", "Software Engineer", "Data Analyst", "Data Engineer",
	"Product Manager", "DevOps Engineer", "QA Engineer", "UX Designer"}

func benchEnabled(tb testing.TB) {
	tb.Helper()
	if os.Getenv("CALLBOOK_BENCH_EXPORT") == "" {
		tb.Skip("set CALLBOOK_BENCH_EXPORT=1 to generate 1,000,000 leads and measure the export and dashboard")
	}
}

// benchStore opens the generated database, making it on first use.
func benchStore(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	path := os.Getenv("CALLBOOK_BENCH_DB")
	if path == "" {
		path = filepath.Join(os.TempDir(), "callbook-bench-1m.db")
	}
	_, statErr := os.Stat(path)
	s := storetest.MustOpenURL(tb, "sqlite:"+path, storetest.Options(storetest.NewClock(benchNow)))
	if statErr != nil {
		start := time.Now()
		if err := generateBenchData(s); err != nil {
			os.Remove(path)
			tb.Fatalf("generate: %v", err)
		}
		tb.Logf("generated %d leads in %s at %s", benchLeads, time.Since(start).Round(time.Second), path)
	}
	return s, path
}

// generateBenchData bulk-inserts the leads, about 1.2 bookings each, and some
// mail, with multi-row INSERTs in large transactions.
func generateBenchData(s *store.Store) error {
	db, err := s.DB().DB()
	if err != nil {
		return err
	}
	var hostID, ownerID int64
	if err := db.QueryRow("SELECT id FROM users WHERE host = ?", true).Scan(&hostID); err != nil {
		return err
	}
	res, err := db.Exec("INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('owner@example.com', 'Owner', 'sales', ?, ?)", benchNow, benchNow)
	if err != nil {
		return err
	}
	ownerID, _ = res.LastInsertId()
	for lo := 1; lo <= benchLeads; lo += 100_000 {
		if err := benchInsertChunk(db, lo, min(lo+100_000, benchLeads+1), hostID, ownerID); err != nil {
			return err
		}
	}
	if _, err := db.Exec("ANALYZE"); err != nil {
		return err
	}
	// Inserted past the changes that keep the dashboard's daily figures.
	return s.RebuildStats(context.Background())
}

const benchLeadCols = `(id, email_key, email, name, phone, current_title, target_title, recommended_title,
	role_slug, status, owner_id, utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, created_at, updated_at)`

const benchBookingCols = `(uid, token_hash, lead_id, host_id, status, start_at, end_at, timezone, target_title,
	created_at, updated_at)`

// benchInsertChunk inserts leads [lo, hi) and their bookings in one transaction.
func benchInsertChunk(db *sql.DB, lo, hi int, hostID, ownerID int64) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	leads := &benchBatch{tx: tx, head: "INSERT INTO leads " + benchLeadCols + " VALUES ", width: 19}
	books := &benchBatch{tx: tx, head: "INSERT INTO bookings " + benchBookingCols + " VALUES ", width: 11}
	statuses := []string{"new", "new", "new", "new", "new", "contacted", "contacted", "qualified", "client", "lost"}
	span := 730 * 24 * time.Hour
	for i := lo; i < hi; i++ {
		created := benchNow.Add(-span + time.Duration(int64(span)/benchLeads*int64(i)))
		title := benchTitles[(i*7)%len(benchTitles)]
		rec, owner, src := "", any(nil), ""
		if i%10 < 3 {
			rec = title
			if i%3 == 0 {
				rec = benchTitles[(i+1)%len(benchTitles)]
			}
		}
		if i%5 == 0 {
			owner = ownerID
		}
		if i%2 == 0 {
			src = "google"
		}
		email := fmt.Sprintf("lead%d@example.com", i)
		if err := leads.add(i, email, email, fmt.Sprintf("Lead %d, \"Bench\"", i), "+1 555 0100", "Analyst", title, rec,
			"backend-engineer", statuses[i%len(statuses)], owner, src, "cpc", "bench", "", "", "https://example.com/", created, created); err != nil {
			return err
		}
		for j := 0; j < 1+boolInt(i%5 == 0); j++ {
			start := created.Add(time.Duration(2+j*7) * 24 * time.Hour)
			st := []string{"completed", "completed", "completed", "completed", "completed", "completed", "completed", "no_show", "no_show", "canceled"}[(i+j)%10]
			if start.After(benchNow) {
				st = "confirmed"
			}
			uid := fmt.Sprintf("u%d-%d", i, j)
			if err := books.add(uid, uid, i, hostID, st, start, start.Add(30*time.Minute), "UTC", title, created, created); err != nil {
				return err
			}
		}
	}
	if err := leads.flush(); err != nil {
		return err
	}
	if err := books.flush(); err != nil {
		return err
	}
	return tx.Commit()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// benchBatch gathers rows into multi-row INSERTs of 100 rows.
type benchBatch struct {
	tx    *sql.Tx
	head  string
	width int
	args  []any
}

func (b *benchBatch) add(vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) >= 100*b.width {
		return b.flush()
	}
	return nil
}

func (b *benchBatch) flush() error {
	n := len(b.args) / b.width
	if n == 0 {
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", b.width), ",") + ")"
	q := b.head + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
	_, err := b.tx.Exec(q, b.args...)
	b.args = b.args[:0]
	return err
}

// TestExportMillionLeads_WholeProcess builds the callbook binary, runs
// `callbook export` over the generated database and reports rows per
// second and the process's peak resident memory. It asserts only the row
// count: the figures are reported, not enforced.
func TestExportMillionLeads_WholeProcess(t *testing.T) {
	benchEnabled(t)
	_, path := benchStore(t)
	bin := filepath.Join(t.TempDir(), "callbook")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/callbook/callbook/cmd/callbook").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	csvPath := filepath.Join(t.TempDir(), "leads.csv")
	cmd := exec.Command(bin, "export", "--out", csvPath)
	cmd.Env = append(os.Environ(), "CALLBOOK_DATABASE_URL=sqlite:"+path, "CALLBOOK_SECRET=bench-secret-bench-secret")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	lines := countLines(t, csvPath)
	if lines != benchLeads+1 {
		t.Fatalf("CSV has %d lines, want %d", lines, benchLeads+1)
	}
	t.Logf("callbook export: %d rows in %s = %.0f rows/s; peak RSS %.1f MB; user %.2fs sys %.2fs",
		benchLeads, elapsed.Round(time.Millisecond), float64(benchLeads)/elapsed.Seconds(), float64(ru.Maxrss)/1024,
		time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
}

// countLines counts records by newlines; the generated data has none
// inside cells.
func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// BenchmarkExportLeads exports every generated lead to io.Discard.
func BenchmarkExportLeads(b *testing.B) {
	benchEnabled(b)
	s, _ := benchStore(b)
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		n, err := s.ExportLeads(context.Background(), store.LeadFilter{}, io.Discard, nil)
		if err != nil || n != benchLeads {
			b.Fatalf("export = %d, %v", n, err)
		}
	}
	reportRates(b, cpu0, benchLeads)
}

// BenchmarkExportLeads_Correlated is the lead list's query (three
// correlated subqueries per lead) streamed whole, for comparison.
func BenchmarkExportLeads_Correlated(b *testing.B) {
	benchEnabled(b)
	s, _ := benchStore(b)
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		rows, err := s.LeadQuery(context.Background(), store.LeadFilter{}).Rows()
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rows.Close()
		if n != benchLeads {
			b.Fatalf("rows = %d", n)
		}
	}
	reportRates(b, cpu0, benchLeads)
}

// BenchmarkStats computes the dashboard for the last 7, 30 and 90 days.
func BenchmarkStats(b *testing.B) {
	benchEnabled(b)
	s, _ := benchStore(b)
	for _, days := range []int{7, 30, 90} {
		b.Run(fmt.Sprintf("%ddays", days), func(b *testing.B) {
			p := s.LastDays(days)
			cpu0 := processCPU()
			for range b.N {
				st, err := s.Stats(context.Background(), p)
				if err != nil || st.Total.Booked == 0 {
					b.Fatalf("stats: %v", err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// processCPU is the user and system time this process has used. Reported
// beside wall time because a shared machine's load inflates the latter.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRates reports rows per second of wall time and of CPU time.
func reportRates(b *testing.B, cpu0 time.Duration, rows int) {
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(total/(processCPU()-cpu0).Seconds(), "rows/cpu-s")
}
