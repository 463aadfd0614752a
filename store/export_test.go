package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// exportT0 is "now" for export tests.
var exportT0 = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

func openExportStore(t *testing.T, dialect string) *store.Store {
	t.Helper()
	return storetest.MustOpen(t, dialect, storetest.Options(storetest.NewClock(exportT0)))
}

// mustInsertLead inserts one lead created at the given time.
func mustInsertLead(t testing.TB, s *store.Store, l models.Lead) models.Lead {
	t.Helper()
	if l.EmailKey == "" {
		l.EmailKey = models.NormalizeEmail(l.Email)
	}
	if l.Status == "" {
		l.Status = models.LeadNew
	}
	if l.UpdatedAt.IsZero() {
		l.UpdatedAt = l.CreatedAt
	}
	if err := s.DB().Create(&l).Error; err != nil {
		t.Fatalf("insert lead %q: %v", l.Email, err)
	}
	return l
}

// mustInsertBooking inserts one booking of lead with the default host.
func mustInsertBooking(t testing.TB, s *store.Store, leadID uint, status string, start, created time.Time) {
	t.Helper()
	var host models.User
	if err := s.DB().Where("host = ?", true).Order("id").Take(&host).Error; err != nil {
		t.Fatalf("host: %v", err)
	}
	uid := store.RandomToken(16)
	b := models.Booking{UID: uid, TokenHash: uid, LeadID: leadID, HostID: host.ID, Status: status,
		StartAt: start, EndAt: start.Add(30 * time.Minute), Timezone: "UTC", TargetTitle: "Backend Engineer",
		CreatedAt: created, UpdatedAt: created}
	if err := s.DB().Create(&b).Error; err != nil {
		t.Fatalf("insert booking: %v", err)
	}
}

func mustExport(t *testing.T, s *store.Store, f store.LeadFilter) ([][]string, int64) {
	t.Helper()
	var buf bytes.Buffer
	n, err := s.ExportLeads(context.Background(), f, &buf, nil)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("read back CSV: %v\n%s", err, buf.String())
	}
	return recs, n
}

func TestExportLeads_RoundTripsHardTextAndNeutralizesFormulas(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := openExportStore(t, dialect)
		names := []string{
			`Lovelace, Ada "Countess"`, "Line one\nline two", "Carriage\r\nreturn", "Дмитрий Иванов",
			"王小明", "محمد علي", "Unit\x1fSeparator", "=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tTabbed", "Ünïcødé 🎉",
		}
		for i, n := range names {
			mustInsertLead(t, s, models.Lead{Email: fmt.Sprintf("p%d@example.com", i), Name: n,
				TargetTitle: "Backend Engineer", Phone: "+1 555 0100", CreatedAt: exportT0.Add(-time.Duration(i) * time.Hour)})
		}
		recs, n := mustExport(t, s, store.LeadFilter{})
		if n != int64(len(names)) || len(recs) != len(names)+1 {
			t.Fatalf("rows = %d (%d records), want %d", n, len(recs), len(names))
		}
		if got := fmt.Sprint(recs[0]); got != fmt.Sprint(models.ExportColumns) {
			t.Fatalf("header = %v", recs[0])
		}
		for i, want := range names {
			rec := recs[len(names)-i] // newest (highest id) first
			// encoding/csv reads a CRLF inside a quoted field back as LF.
			want = strings.ReplaceAll(want, "\r\n", "\n")
			if rec[2] != models.SafeCell(want) {
				t.Errorf("name %d = %q, want %q", i, rec[2], models.SafeCell(want))
			}
			if rec[4] != "+1 555 0100" {
				t.Errorf("phone = %q, want it as it is", rec[4])
			}
		}
		for _, c := range []struct{ in, want string }{
			{"=1+1", "'=1+1"}, {"+x", "'+x"}, {"-x", "'-x"}, {"@x", "'@x"}, {"\tx", "'\tx"},
			{"\rx", "'\rx"}, {"x=1", "x=1"}, {"", ""}, {"Ada", "Ada"},
			// Phone numbers can call nothing and stay as they are.
			{"+1 312 555 0100", "+1 312 555 0100"}, {"+44 (20) 7946-0000", "+44 (20) 7946-0000"}, {"-2", "-2"},
			{"(555) 0100", "(555) 0100"}, {"+1 555 0100 ext. 7", "'+1 555 0100 ext. 7"},
			{"+1 555\t0100", "'+1 555\t0100"}, {"-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"}, {"=1+1", "'=1+1"},
		} {
			if got := models.SafeCell(c.in); got != c.want {
				t.Errorf("SafeCell(%q) = %q, want %q", c.in, got, c.want)
			}
		}
	})
}

func TestExportLeads_FiguresAreTheLeadListDefinitions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := openExportStore(t, dialect)
		owner := models.User{Email: "sam@example.com", Name: "Sam", Role: models.RoleSales}
		if err := s.DB().Create(&owner).Error; err != nil {
			t.Fatal(err)
		}
		type want struct{ owner, count, next, last string }
		wants := map[uint]want{}
		for i := range 12 {
			l := models.Lead{Email: fmt.Sprintf("l%d@example.com", i), Name: fmt.Sprintf("Lead %d", i),
				TargetTitle: []string{"Backend Engineer", "Data Analyst"}[i%2], CreatedAt: exportT0.Add(-time.Duration(i) * 24 * time.Hour)}
			if i%4 == 1 { // a packed SQLite row that does not unpack is read again
				l.Name = "Lead\x1f" + strconv.Itoa(i)
			}
			w := want{count: strconv.Itoa(i % 5)}
			if i%3 == 0 {
				l.OwnerID, w.owner = &owner.ID, owner.Email
			}
			l = mustInsertLead(t, s, l)
			// Bookings j = 0..i%5-1: past no-show, past completed, future
			// confirmed, canceled future, later future confirmed.
			plan := []struct {
				status string
				at     time.Duration
			}{{models.BookingNoShow, -72 * time.Hour}, {models.BookingCompleted, -24 * time.Hour},
				{models.BookingConfirmed, 48 * time.Hour}, {models.BookingCanceled, 24 * time.Hour},
				{models.BookingConfirmed, 96 * time.Hour}}
			for j := range i % 5 {
				start := exportT0.Add(plan[j].at).Add(time.Duration(i) * time.Minute)
				mustInsertBooking(t, s, l.ID, plan[j].status, start, l.CreatedAt)
				switch {
				case j <= 1:
					w.last = start.Format(time.RFC3339)
				case j == 2:
					w.next = start.Format(time.RFC3339)
				}
			}
			wants[l.ID] = w
		}
		f := store.LeadFilter{TargetTitle: "Backend Engineer"}
		recs, n := mustExport(t, s, f)
		if n != 6 || len(recs) != 7 {
			t.Fatalf("exported %d rows, want 6", n)
		}
		for _, rec := range recs[1:] {
			id, _ := strconv.Atoi(rec[0])
			w := wants[uint(id)]
			got := want{rec[10], rec[11], rec[12], rec[13]}
			if got != w || rec[6] != "Backend Engineer" {
				t.Errorf("lead %d (%s): got %+v, want %+v", id, rec[6], got, w)
			}
		}
		{ // and they are the lead list's own figures
			list, _, err := s.ListLeads(context.Background(), f, 200, "")
			if err != nil {
				t.Fatal(err)
			}
			for i, row := range list {
				rec := recs[i+1]
				got := []string{rec[0], rec[11], rec[12], rec[13]}
				w := []string{strconv.Itoa(int(row.ID)), strconv.Itoa(int(row.BookingsCount)), fmtOpt(row.NextCallAt), fmtOpt(row.LastCallAt)}
				if fmt.Sprint(got) != fmt.Sprint(w) {
					t.Errorf("row %d: export %q, list %q", i, got, w)
				}
			}
		}
	})
}

func fmtOpt(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func TestExportLeads_PagesThroughMoreThanOnePage(t *testing.T) {
	s := openExportStore(t, store.DialectSQLite)
	const total = 12_345
	leads := make([]models.Lead, total)
	for i := range leads {
		e := fmt.Sprintf("bulk%d@example.com", i)
		leads[i] = models.Lead{EmailKey: e, Email: e, Name: "Bulk", TargetTitle: "QA Engineer",
			Status: models.LeadNew, CreatedAt: exportT0, UpdatedAt: exportT0}
	}
	if err := s.DB().CreateInBatches(&leads, 500).Error; err != nil {
		t.Fatal(err)
	}
	var calls []int64
	var buf bytes.Buffer
	n, err := s.ExportLeads(context.Background(), store.LeadFilter{}, &buf, func(rows int64) { calls = append(calls, rows) })
	if err != nil || n != total {
		t.Fatalf("export = %d, %v; want %d", n, err, total)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != total+1 {
		t.Fatalf("records = %d, %v", len(recs), err)
	}
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		if seen[r[0]] {
			t.Fatalf("id %s exported twice", r[0])
		}
		seen[r[0]] = true
	}
	if len(calls) < 2 || calls[len(calls)-1] != total {
		t.Errorf("progress calls = %v, want several ending at %d", calls, total)
	}
}

func TestExportLeads_CanceledContextStops(t *testing.T) {
	s := openExportStore(t, store.DialectSQLite)
	mustInsertLead(t, s, models.Lead{Email: "a@example.com", Name: "A", TargetTitle: "X", CreatedAt: exportT0})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ExportLeads(ctx, store.LeadFilter{}, &bytes.Buffer{}, nil); err == nil {
		t.Fatal("export with a canceled context succeeded")
	}
}

func TestRecordExport_WritesEventWithFiltersAndRows(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := openExportStore(t, dialect)
		f := store.LeadFilter{Status: models.LeadClient, TargetTitle: "Data Analyst", CreatedFrom: exportT0}
		if err := s.RecordExport(context.Background(), "Ann <ann@example.com>", f, 42, true); err != nil {
			t.Fatal(err)
		}
		var ev models.Event
		if err := s.DB().Where("type = ?", "lead.exported").Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		var data struct {
			Filters  map[string]any
			Rows     int64
			Complete bool
		}
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			t.Fatal(err)
		}
		if ev.Actor != "Ann <ann@example.com>" || ev.LeadID != nil || data.Rows != 42 || !data.Complete ||
			data.Filters["status"] != "client" || data.Filters["target_title"] != "Data Analyst" ||
			data.Filters["created_from"] != exportT0.Format(time.RFC3339) {
			t.Errorf("event = %+v, data %+v", ev, data)
		}
	})
}
