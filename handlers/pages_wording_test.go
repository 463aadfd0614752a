package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

func TestZoneAt_NamesZonesWithoutUnderscoresAndNeverUTCTwice(t *testing.T) {
	at := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct{ zone, want string }{
		{"America/New_York", "America/New York (EST)"},
		{"Europe/Berlin", "Europe/Berlin (CET)"},
		{"America/Argentina/Buenos_Aires", "America/Argentina/Buenos Aires (-03)"},
		{"UTC", "UTC"},
	} {
		if got := zoneAt(c.zone, at.In(mustZone(c.zone))); got != c.want {
			t.Errorf("zoneAt(%s) = %q, want %q", c.zone, got, c.want)
		}
	}
}

func TestCanceledPage_NamesTheTimeZone(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		token, _ := e.mustBookAPI("ada@example.com", e.firstSlots(1, "Europe/Berlin")[0])
		if w := e.postForm("/bookings/"+token+"/cancel", url.Values{"reason": {"x"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("cancel: %d", w.Code)
		}
		body := e.do(http.MethodGet, "/bookings/"+token, nil).Body.String()
		if !strings.Contains(body, "This call was canceled") || !strings.Contains(body, "Europe/Berlin (CET) time") {
			t.Fatalf("the canceled page does not name the zone:\n%s", body)
		}
	})
}

func TestBookingPages_UTCVisitorSeesUTCOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		start := e.firstSlots(1, "UTC")[0]
		body := bookingBody("ada@example.com", start)
		body["timezone"] = "UTC"
		w := e.postJSON("/api/v1/bookings", body)
		if w.Code != http.StatusCreated {
			t.Fatalf("book: %d %s", w.Code, w.Body.String())
		}
		manage := decode[bookingResponse](t, w).Booking.ManageURL
		u, _ := url.Parse(manage)
		for _, p := range []string{u.Path, u.Path + "/cancel", "/roles/backend-engineer/book?tz=UTC", "/roles/backend-engineer/book?tz=America/New_York"} {
			page := e.do(http.MethodGet, p, nil).Body.String()
			if strings.Contains(page, "UTC (UTC)") || strings.Contains(page, ">America/New_York<") {
				t.Errorf("%s names a zone twice or with an underscore", p)
			}
		}
	})
}

func TestNotFoundBookingLink_TellsTheVisitorWhatToDo(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		w := e.do(http.MethodGet, "/bookings/not-a-real-token", nil)
		body := w.Body.String()
		if w.Code != http.StatusNotFound || !strings.Contains(body, "find this booking") ||
			!strings.Contains(body, "confirmation email") || !strings.Contains(body, `href="/roles/backend-engineer"`) {
			t.Fatalf("404: %d\n%s", w.Code, body)
		}
	})
}

func TestAdminPage_SalesGetsTheStaffLayouts403(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		for _, p := range []string{"/admin/users", "/admin/availability", "/admin/mail", "/admin/export"} {
			w := e.page(sales, http.MethodGet, p, nil)
			body := w.Body.String()
			if w.Code != http.StatusForbidden || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
				!strings.Contains(body, `class="staff-nav"`) || !strings.Contains(body, "Admins only") {
				t.Errorf("%s: %d %s\n%s", p, w.Code, w.Header().Get("Content-Type"), body)
			}
		}
	})
}
