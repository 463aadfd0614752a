package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// mustSeedDashboard inserts 60 leads over the last 45 days across three
// target titles and all statuses, a few erased, with completed and no-show
// calls, so every dashboard figure has something to count.
func (e *testEnv) mustSeedDashboard() {
	e.t.Helper()
	now := e.clock.Now().UTC()
	titles := []string{"Backend Engineer", "Data Analyst", "UX Designer"}
	hosts, err := e.store.Hosts(context.Background())
	if err != nil || len(hosts) == 0 {
		e.t.Fatalf("hosts: %v", err)
	}
	for i := range 60 {
		at := now.Add(-time.Duration(i*18) * time.Hour)
		l := models.Lead{EmailKey: "d" + itoa(i) + "@example.com", Email: "d" + itoa(i) + "@example.com", Name: "Dash " + itoa(i),
			TargetTitle: titles[i%3], Status: models.LeadStatuses[i%5], CreatedAt: at, UpdatedAt: at}
		if i%4 == 0 {
			l.RecommendedTitle = titles[(i/4)%3]
		}
		if i%13 == 0 {
			l.ErasedAt = &now
		}
		if err := e.store.DB().Create(&l).Error; err != nil {
			e.t.Fatal(err)
		}
		for j := range i % 3 {
			start := at.Add(time.Duration(j+1) * 24 * time.Hour)
			status := []string{models.BookingCompleted, models.BookingNoShow}[(i+j)%2]
			if start.After(now) {
				status = models.BookingConfirmed
			}
			uid := store.RandomToken(16)
			b := models.Booking{UID: uid, TokenHash: uid, LeadID: l.ID, HostID: hosts[0].ID, Status: status, StartAt: start,
				EndAt: start.Add(30 * time.Minute), Timezone: "UTC", TargetTitle: l.TargetTitle, CreatedAt: at, UpdatedAt: at}
			if err := e.store.DB().Create(&b).Error; err != nil {
				e.t.Fatal(err)
			}
		}
	}
	// Written straight into the tables: recompute the daily figures.
	if err := e.store.RebuildStats(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

var (
	countLink  = regexp.MustCompile(`<a href="(/admin/leads\?[^"]*)" data-count="(\d+)"`)
	withinLink = regexp.MustCompile(`<a href="(/admin/leads\?[^"]*)" data-within="(\d+)"`)
)

// leadListCount is how many leads the lead list counts for href, through
// the list's own query parsing.
func (e *testEnv) leadListCount(href string) int64 {
	e.t.Helper()
	u, err := url.Parse(html.UnescapeString(href))
	if err != nil {
		e.t.Fatal(err)
	}
	f, err := readLeadListQuery(u.Query()).filter(e.store.Location())
	if err != nil {
		e.t.Fatalf("%s: %v", href, err)
	}
	n, err := e.store.CountLeads(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestDashboard_EveryLeadFigureEqualsTheListItLinksTo(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sam@example.com", models.RoleSales)
		e.mustSeedDashboard()
		for _, days := range []string{"7", "30", "90"} {
			w := e.page(sales, http.MethodGet, "/admin?days="+days, nil)
			body := w.Body.String()
			if w.Code != http.StatusOK {
				t.Fatalf("days=%s: %d %s", days, w.Code, body)
			}
			links := countLink.FindAllStringSubmatch(body, -1)
			if len(links) < 10 {
				t.Fatalf("days=%s: only %d linked figures", days, len(links))
			}
			for _, m := range links {
				want, _ := strconv.ParseInt(m[2], 10, 64)
				if got := e.leadListCount(m[1]); got != want {
					t.Errorf("days=%s: figure %d links to %s, which lists %d", days, want, m[1], got)
				}
			}
			for _, m := range withinLink.FindAllStringSubmatch(body, -1) {
				n, _ := strconv.ParseInt(m[2], 10, 64)
				if got := e.leadListCount(m[1]); got < n {
					t.Errorf("days=%s: figure %d links to %s, which lists only %d", days, n, m[1], got)
				}
			}
		}
	})
}

func TestDashboard_LinkedListPageShowsTheSameCount(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("ann@example.com", models.RoleAdmin)
	e.mustSeedDashboard()
	body := e.page(admin, http.MethodGet, "/admin", nil).Body.String()
	for _, m := range countLink.FindAllStringSubmatch(body, 8) {
		list := e.page(admin, http.MethodGet, html.UnescapeString(m[1]), nil)
		n, _ := strconv.Atoi(m[2])
		want := thousands(n) + " lead"
		if list.Code != http.StatusOK || !strings.Contains(list.Body.String(), `aria-live="polite">`+want) {
			t.Errorf("%s: %d, want the list to say %q", m[1], list.Code, want)
		}
	}
}

func TestDashboard_ChartIsReadableWithoutColour(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	sales := e.mustStaff("sam@example.com", models.RoleSales)
	e.mustSeedDashboard()
	body := e.page(sales, http.MethodGet, "/admin?days=30", nil).Body.String()
	for _, want := range []string{"<svg", "<pattern id=\"chart0-hatch\"", "fill=\"url(#chart0-hatch)\"", "<title id=\"chart0-t\">",
		"Calls booked (hatched)", "<table class=\"data weekly\"", "<table class=\"data funnel\"", "No-show rate", "Recommended other"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(body, "/admin/mail?status=failed") {
		t.Error("sales sees a link to the admin-only mail page")
	}
	if w := e.page(sales, http.MethodGet, "/admin?days=12", nil); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("days=12: %d", w.Code)
	}
	if w := e.page(nil, http.MethodGet, "/admin", nil); w.Code != http.StatusSeeOther {
		t.Errorf("anonymous: %d", w.Code)
	}
}

func TestStatsAPI_SameFiguresAsJSON(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sam@example.com", models.RoleSales)
		e.mustSeedDashboard()
		to := e.clock.Now().In(e.store.Location()).Format(time.DateOnly)
		from := e.clock.Now().In(e.store.Location()).AddDate(0, 0, -29).Format(time.DateOnly)
		w := e.api(sales, http.MethodGet, "/api/v1/admin/stats?from="+from+"&to="+to, "")
		if w.Code != http.StatusOK {
			t.Fatalf("stats: %d %s", w.Code, w.Body.String())
		}
		type tj struct {
			TargetTitle  *string           `json:"target_title"`
			Leads        int64             `json:"leads"`
			Qualified    int64             `json:"qualified"`
			LeadsPerWeek []int64           `json:"leads_per_week"`
			Links        map[string]string `json:"links"`
		}
		got := decode[struct {
			From, To     string
			Weeks        []struct{ From, To string }
			TargetTitles []tj `json:"target_titles"`
			Total        tj
			Calls        map[string]any
			Mail         map[string]int64
		}](t, w)
		if got.From != from || got.To != to || len(got.TargetTitles) != 3 || got.Total.TargetTitle != nil || len(got.Weeks) < 5 {
			t.Fatalf("stats = %+v", got)
		}
		for _, x := range append(got.TargetTitles, got.Total) {
			if n := e.leadListCount(x.Links["leads"]); n != x.Leads {
				t.Errorf("%v: leads %d, list %d", x.TargetTitle, x.Leads, n)
			}
			if n := e.leadListCount(x.Links["qualified"]); n != x.Qualified {
				t.Errorf("%v: qualified %d, list %d", x.TargetTitle, x.Qualified, n)
			}
		}
		if w := e.api(sales, http.MethodGet, "/api/v1/admin/stats?from=2026-13-01", ""); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("bad from: %d", w.Code)
		}
		if w := e.api(nil, http.MethodGet, "/api/v1/admin/stats", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", w.Code)
		}
	})
}

func TestDashboard_WeeksAreWholeMondayToSundayWeeksLabeledByTheirDates(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	// The test clock is Monday 30 November 2026: the last 7 days run from
	// Tuesday 24 November, so the first bar is the week of Monday 23 November.
	body := e.page(admin, http.MethodGet, "/admin?days=7", nil).Body.String()
	for _, want := range []string{"23 Nov – 29 Nov", "30 Nov – 6 Dec"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks the week %q", want)
		}
	}
	w := e.api(admin, http.MethodGet, "/api/v1/admin/stats?from=2026-11-24&to=2026-11-30", "")
	if !strings.Contains(w.Body.String(), `"weeks":[{"from":"2026-11-23","to":"2026-11-29"},{"from":"2026-11-30","to":"2026-12-06"}]`) {
		t.Errorf("stats weeks: %s", w.Body.String())
	}
}
