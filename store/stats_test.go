package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// statsBooking is one call of a stats fixture lead, at an offset from now.
type statsBooking struct {
	status string
	at     time.Duration
}

// statsLead is one fixture lead, created at an offset from now.
type statsLead struct {
	title, status, recommended string
	created                    time.Duration
	erased                     bool
	calls                      []statsBooking
}

const (
	statsBE  = "Backend Engineer"
	statsDA  = "Data Analyst"
	statsDay = 24 * time.Hour
)

// mustSeedStats inserts leads with known figures. now is Monday 4 May 2026,
// 11:00 in New York; the last 30 days are 5 April to 4 May.
func mustSeedStats(t testing.TB, s *store.Store) {
	t.Helper()
	now := s.Now()
	p := s.LastDays(30)
	fixture := []statsLead{
		{statsBE, "client", "Backend Engineer", -1 * statsDay, false, []statsBooking{{"completed", -20 * time.Hour}}},
		{statsBE, "qualified", " backend engineer ", -8 * statsDay, false, []statsBooking{{"no_show", -7 * statsDay}, {"completed", -6 * statsDay}}},
		{statsBE, "new", "Data Engineer", -15 * statsDay, false, []statsBooking{{"no_show", -10 * statsDay}}},
		{statsBE, "lost", "", p.Start.Sub(now), false, []statsBooking{{"confirmed", 3 * statsDay}}},
		{statsBE, "client", "", -2 * statsDay, true, []statsBooking{{"completed", -30 * time.Hour}}},
		{statsBE, "new", "", p.Start.Sub(now) - time.Second, false, nil},
		{statsBE, "new", "", p.End.Sub(now) - time.Second, false, nil},
		{statsDA, "qualified", "Product Analyst", -time.Hour, false, []statsBooking{
			{"completed", -2 * time.Hour}, {"completed", -3 * statsDay}, {"confirmed", 3 * time.Hour}, {"canceled", 4 * time.Hour}}},
		{statsDA, "client", "", -40 * statsDay, false, []statsBooking{{"completed", -39 * statsDay}}},
	}
	for i, fl := range fixture {
		created := now.Add(fl.created)
		l := models.Lead{Email: "stats" + string(rune('a'+i)) + "@example.com", Name: "Stats", TargetTitle: fl.title,
			Status: fl.status, RecommendedTitle: fl.recommended, CreatedAt: created}
		if fl.erased {
			l.ErasedAt = &now
		}
		l = mustInsertLead(t, s, l)
		for _, c := range fl.calls {
			mustInsertTitledBooking(t, s, l.ID, fl.title, c.status, now.Add(c.at), created)
		}
	}
	// The fixture is written straight into the tables, past the changes
	// that keep the daily figures, so they are recomputed as a repair would.
	if err := s.RebuildStats(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, st := range []string{"pending", "pending", "sending", "failed", "sent", "sent", "sent"} {
		m := models.OutboxMessage{Kind: "digest", ToAddr: "x@example.com", MessageID: "<stats" + string(rune('a'+i)) + "@test>",
			Payload: "{}", Status: st, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.DB().Create(&m).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func mustInsertTitledBooking(t testing.TB, s *store.Store, leadID uint, title, status string, start, created time.Time) {
	t.Helper()
	var host models.User
	if err := s.DB().Where("host = ?", true).Order("id").Take(&host).Error; err != nil {
		t.Fatalf("host: %v", err)
	}
	uid := store.RandomToken(16)
	b := models.Booking{UID: uid, TokenHash: uid, LeadID: leadID, HostID: host.ID, Status: status,
		StartAt: start, EndAt: start.Add(30 * time.Minute), Timezone: "UTC", TargetTitle: title,
		CreatedAt: created, UpdatedAt: created}
	if err := s.DB().Create(&b).Error; err != nil {
		t.Fatalf("insert booking: %v", err)
	}
}

func mustStats(t *testing.T, s *store.Store, p store.Period) *store.Stats {
	t.Helper()
	st, err := s.Stats(context.Background(), p)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return st
}

func TestStats_KnownFigures(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := openExportStore(t, dialect)
		mustSeedStats(t, s)
		st := mustStats(t, s, s.LastDays(30))
		if len(st.Titles) != 2 || st.Titles[0].TargetTitle != statsBE || st.Titles[1].TargetTitle != statsDA {
			t.Fatalf("titles = %+v", st.Titles)
		}
		be, da := st.Titles[0], st.Titles[1]
		type funnel struct{ booked, completed, qualified, client, calls, noShows, recom, differs int64 }
		got := funnel{be.Booked, be.Completed, be.Qualified, be.Client, be.CompletedCalls, be.NoShowCalls, be.Recommended, be.RecommendedDiffers}
		if want := (funnel{5, 2, 1, 1, 2, 2, 3, 1}); got != want {
			t.Errorf("Backend Engineer funnel = %+v, want %+v", got, want)
		}
		got = funnel{da.Booked, da.Completed, da.Qualified, da.Client, da.CompletedCalls, da.NoShowCalls, da.Recommended, da.RecommendedDiffers}
		if want := (funnel{1, 1, 1, 0, 2, 0, 1, 1}); got != want {
			t.Errorf("Data Analyst funnel = %+v, want %+v", got, want)
		}
		if be.NoShowRate() != 0.5 || be.DiffersRate() != 1.0/3 || da.NoShowRate() != 0 || st.Total.Booked != 6 {
			t.Errorf("rates %v %v %v, total %d", be.NoShowRate(), be.DiffersRate(), da.NoShowRate(), st.Total.Booked)
		}
		if statsSum(be.WeeklyCalls) != 6 || statsSum(da.WeeklyCalls) != 4 {
			t.Errorf("calls booked = %v and %v, want 6 (erased lead's call included) and 4", be.WeeklyCalls, da.WeeklyCalls)
		}
		if st.CallsToday.Count != 2 || st.CallsThisWeek.Count != 3 {
			t.Errorf("calls today %d, this week %d; want 2 and 3", st.CallsToday.Count, st.CallsThisWeek.Count)
		}
		if st.Mail != (models.MailHealth{Queued: 3, Failed: 1}) {
			t.Errorf("mail = %+v, want 3 queued, 1 failed", st.Mail)
		}
	})
}

func statsSum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}

// TestStats_LeadFiguresEqualTheirLeadListCounts checks the promise behind
// every dashboard link: the figure is CountLeads of the filter it links to.
func TestStats_LeadFiguresEqualTheirLeadListCounts(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := openExportStore(t, dialect)
		mustSeedStats(t, s)
		for _, days := range []int{7, 30, 90} {
			p := s.LastDays(days)
			st := mustStats(t, s, p)
			check := func(what string, n int64, f store.LeadFilter) {
				t.Helper()
				want, err := s.CountLeads(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				if n != want {
					t.Errorf("%d days, %s = %d, but the linked list has %d", days, what, n, want)
				}
			}
			for _, ts := range append(st.Titles, st.Total) {
				check(ts.TargetTitle+" booked", ts.Booked, p.Leads(ts.TargetTitle, ""))
				check(ts.TargetTitle+" qualified", ts.Qualified, p.Leads(ts.TargetTitle, models.LeadQualified))
				check(ts.TargetTitle+" client", ts.Client, p.Leads(ts.TargetTitle, models.LeadClient))
				for i, w := range st.Weeks {
					check(ts.TargetTitle+" week "+w.FirstDay(), ts.WeeklyLeads[i], w.Leads(ts.TargetTitle, ""))
				}
			}
		}
	})
}

func TestPeriod_WeeksStartOnMondayAndSurviveDST(t *testing.T) {
	s := openExportStore(t, store.DialectSQLite)
	p, err := s.ParsePeriod("2026-03-01", "2026-03-31") // DST starts 8 March in New York
	if err != nil {
		t.Fatal(err)
	}
	if p.Days() != 31 || p.FirstDay() != "2026-03-01" || p.LastDay() != "2026-03-31" {
		t.Fatalf("period %s..%s, %d days", p.FirstDay(), p.LastDay(), p.Days())
	}
	weeks := p.Weeks()
	// Whole weeks, Monday to Sunday: the first begins before the 1st (a
	// Sunday), the last ends after the 31st.
	wantStarts := []string{"2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"}
	if len(weeks) != len(wantStarts) {
		t.Fatalf("weeks = %d, want %d", len(weeks), len(wantStarts))
	}
	for i, w := range weeks {
		if w.FirstDay() != wantStarts[i] || w.Start.Hour() != 0 || w.End.Hour() != 0 || w.Days() != 7 || w.Start.Weekday() != time.Monday {
			t.Errorf("week %d = %v..%v (%d days)", i, w.Start, w.End, w.Days())
		}
	}
	if last := weeks[len(weeks)-1]; last.LastDay() != "2026-04-05" {
		t.Errorf("last week ends %s, want Sunday 2026-04-05", last.LastDay())
	}
}

func TestParsePeriod_RejectsBadInput(t *testing.T) {
	s := openExportStore(t, store.DialectSQLite)
	for _, c := range []struct{ from, to, field string }{
		{"2026-13-01", "", "from"}, {"", "yesterday", "to"}, {"2026-05-02", "2026-05-01", "to"},
		{"2024-01-01", "2026-01-01", "to"},
	} {
		_, err := s.ParsePeriod(c.from, c.to)
		ve, ok := err.(*models.ValidationError)
		if !ok || ve.Fields[c.field] == "" {
			t.Errorf("ParsePeriod(%q, %q) = %v, want a problem with %s", c.from, c.to, err, c.field)
		}
	}
	p, err := s.ParsePeriod("", "")
	if err != nil || p.Days() != 30 || p.LastDay() != "2026-05-04" {
		t.Errorf("default period = %s..%s (%v), want the 30 days to 2026-05-04", p.FirstDay(), p.LastDay(), err)
	}
}
