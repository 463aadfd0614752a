package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

type createdJSON struct {
	Booking bookingJSON `json:"booking"`
	Lead    struct {
		ID uint `json:"id"`
	} `json:"lead"`
}

func TestAPIBooking_CreatesBookingAndLeadWithSource(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		start := e.firstSlots(1, "Europe/Berlin")[0]
		w := e.postJSON("/api/v1/bookings", bookingBody("ada@example.com", start))
		if w.Code != http.StatusCreated {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		got := decode[createdJSON](t, w)
		b := got.Booking
		if b.Status != "confirmed" || b.Start != start || b.Timezone != "Europe/Berlin" || b.Host.Name != models.DefaultHostName ||
			!strings.HasPrefix(b.ManageURL, "http://callbook.test/bookings/") || !strings.HasSuffix(b.ICSURL, "/invite.ics") {
			t.Fatalf("booking %+v", b)
		}
		lead, err := e.store.LeadByID(t.Context(), got.Lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if lead.TargetTitle != "Backend Engineer" || lead.UTMSource != "google" || lead.UTMCampaign != "be-2026" ||
			lead.Referrer != "https://example.com/roles/backend-engineer" || lead.Status != models.LeadNew {
			t.Errorf("lead %+v", lead)
		}
		token := strings.TrimPrefix(b.ManageURL, "http://callbook.test/bookings/")
		w = e.do(http.MethodGet, "/api/v1/bookings/"+token, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"id":`+strconv.Itoa(int(b.ID))) {
			t.Fatalf("get by token: %d %s", w.Code, w.Body)
		}
		if w := e.do(http.MethodGet, "/api/v1/bookings/"+strings.Repeat("x", 43), nil); w.Code != http.StatusNotFound {
			t.Errorf("unknown token: %d", w.Code)
		}
	})
}

func TestAPIBooking_FiftyConcurrentRequestsGiveOneBooking(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		start := e.firstSlots(1, "UTC")[0]
		codes := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := e.postJSON("/api/v1/bookings", bookingBody("racer"+strconv.Itoa(i)+"@example.com", start))
				mu.Lock()
				codes[w.Code]++
				mu.Unlock()
				if w.Code == http.StatusConflict && decode[errorJSON](t, w).Error.Code != "slot_unavailable" {
					t.Errorf("409 body %s", w.Body)
				}
			}()
		}
		wg.Wait()
		if codes[201] != 1 || codes[409] != 49 || len(codes) != 2 {
			t.Fatalf("status counts %v, want one 201 and 49 409", codes)
		}
	})
}

func TestAPIBooking_ValidationNamesEachField(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	start := e.firstSlots(1, "UTC")[0]
	cases := []struct {
		field string
		set   any
		want  string
	}{
		{"name", "", "name"},
		{"name", strings.Repeat("a", 121), "name"},
		{"name", "Ada\r\nBcc: x@example.com", "name"},
		{"email", "not-an-email", "email"},
		{"email", "ada@localhost", "email"},
		{"email", "Ada <ada@example.com>", "email"},
		{"target_title", "", "target_title"},
		{"target_title", "Eng\x00ineer", "target_title"},
		{"role_slug", "astronaut", "role_slug"},
		{"start", "tomorrow at noon", "start"},
		{"timezone", "Mars/Olympus", "timezone"},
		{"timezone", "Local", "timezone"},
		{"consent", false, "consent"},
		{"phone", "call me maybe", "phone"},
		{"message", strings.Repeat("x", 2001), "message"},
		{"current_title", "Analyst\nX-Evil: 1", "current_title"},
	}
	for _, tc := range cases {
		body := bookingBody("ada@example.com", start)
		body[tc.field] = tc.set
		w := e.postJSON("/api/v1/bookings", body)
		if w.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s=%q: status %d", tc.field, tc.set, w.Code)
			continue
		}
		got := decode[errorJSON](t, w)
		if got.Error.Code != "validation_failed" || got.Error.Fields[tc.want] == "" {
			t.Errorf("%s=%q: %s", tc.field, tc.set, w.Body)
		}
	}
	var n int64
	e.store.DB().Model(&models.Lead{}).Count(&n)
	if n != 0 {
		t.Errorf("invalid requests left %d leads behind", n)
	}
}

func TestAPIBooking_MalformedAndOversizedBodies(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	cases := []struct {
		body string
		code int
		err  string
	}{
		{`{"name": "Ada",`, 400, "bad_request"},
		{`["not", "an", "object"]`, 400, "bad_request"},
		{`{"name": 42}`, 400, "bad_request"},
		{`{"consent": "yes"}`, 400, "bad_request"},
		{`{"name":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "payload_too_large"},
	}
	for _, tc := range cases {
		w := e.postJSON("/api/v1/bookings", tc.body)
		if w.Code != tc.code || decode[errorJSON](t, w).Error.Code != tc.err {
			t.Errorf("%.40s: %d %s", tc.body, w.Code, w.Body)
		}
	}
	// A body without Content-Length is cut off at 64 KiB too.
	req := strings.NewReader(`{"name":"` + strings.Repeat("a", 70<<10) + `"}`)
	w := e.do(http.MethodPost, "/api/v1/bookings", struct{ *strings.Reader }{req}, "Content-Type", "application/json")
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body: %d", w.Code)
	}
}

func TestAPIBooking_IdempotencyKeyReplaysAndRefusesOtherBodies(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		starts := e.firstSlots(2, "UTC")
		body := bookingBody("ada@example.com", starts[0])
		first := e.postJSON("/api/v1/bookings", body, "Idempotency-Key", "k-1")
		again := e.postJSON("/api/v1/bookings", body, "Idempotency-Key", "k-1")
		if first.Code != 201 || again.Code != 201 || first.Body.String() != again.Body.String() {
			t.Fatalf("replay: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
		}
		other := e.postJSON("/api/v1/bookings", bookingBody("ada@example.com", starts[1]), "Idempotency-Key", "k-1")
		if other.Code != http.StatusConflict || decode[errorJSON](t, other).Error.Code != "idempotency_conflict" {
			t.Fatalf("other body: %d %s", other.Code, other.Body)
		}
		var n int64
		e.store.DB().Model(&models.Booking{}).Count(&n)
		if n != 1 {
			t.Fatalf("%d bookings", n)
		}
		// Concurrent twins book once.
		var wg sync.WaitGroup
		codes := make([]int, 10)
		twin := bookingBody("grace@example.com", starts[1])
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = e.postJSON("/api/v1/bookings", twin, "Idempotency-Key", "k-2").Code
			}()
		}
		wg.Wait()
		for _, c := range codes {
			if c != 201 {
				t.Fatalf("twin codes %v", codes)
			}
		}
		e.store.DB().Model(&models.Booking{}).Count(&n)
		if n != 2 {
			t.Fatalf("%d bookings after twins", n)
		}
	})
}

func TestRateLimit_RefusesWithRetryAfterPerClientIP(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.RateLimit = 2; o.TrustedProxies = []string{"10.0.0.0/8"} })
	for i := range 2 {
		if w := e.postJSON("/api/v1/bookings", `{}`); w.Code == http.StatusTooManyRequests {
			t.Fatalf("request %d limited too early", i)
		}
	}
	w := e.postJSON("/api/v1/bookings", `{}`)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || decode[errorJSON](t, w).Error.Code != "rate_limited" {
		t.Fatalf("third: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// Another client is not limited; X-Forwarded-For from an untrusted peer is ignored.
	e.remote = "192.0.2.99:1"
	if w := e.postJSON("/api/v1/bookings", `{}`); w.Code == http.StatusTooManyRequests {
		t.Fatal("a second client was limited")
	}
	e.remote = "192.0.2.1:1"
	if w := e.postJSON("/api/v1/bookings", `{}`, "X-Forwarded-For", "198.51.100.7"); w.Code != http.StatusTooManyRequests {
		t.Fatal("X-Forwarded-For from an untrusted peer changed the client")
	}
	// Behind a trusted proxy, each forwarded client has its own budget.
	e.remote = "10.1.2.3:1"
	if w := e.postJSON("/api/v1/bookings", `{}`, "X-Forwarded-For", "198.51.100.7"); w.Code == http.StatusTooManyRequests {
		t.Fatal("a forwarded client behind a trusted proxy was limited")
	}
}

func TestSlotsAPI_ValidatesRangeAndZone(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	cases := map[string]string{
		"/api/v1/slots?from=2026-12-01&to=2027-02-15&tz=UTC": "to",
		"/api/v1/slots?from=2026-12-05&to=2026-12-01&tz=UTC": "to",
		"/api/v1/slots?from=12/01/2026&tz=UTC":               "from",
		"/api/v1/slots?tz=Nowhere/Land":                      "tz",
	}
	for path, field := range cases {
		w := e.do(http.MethodGet, path, nil)
		if w.Code != 422 || decode[errorJSON](t, w).Error.Fields[field] == "" {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	w := e.do(http.MethodGet, "/api/v1/slots?from=2026-11-30&to=2027-01-31&tz=Asia/Tokyo", nil)
	got := decode[slotsJSON](t, w)
	if w.Code != 200 || got.Timezone != "Asia/Tokyo" || got.DurationMinutes != 30 || !strings.HasSuffix(got.Slots[0].Start, "+09:00") {
		t.Fatalf("62 days in Tokyo: %d %+v", w.Code, got.Timezone)
	}
}

func TestBookingForm_WorksWithoutJavaScript(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		page := e.do(http.MethodGet, "/roles/software-engineer/book?tz=Asia/Tokyo&utm_source=newsletter", nil)
		body := page.Body.String()
		for _, want := range []string{`name="start"`, `name="email"`, `name="consent"`, `value="Asia/Tokyo"`, `name="utm_source" value="newsletter"`, `name="website"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("booking page lacks %s", want)
			}
		}
		start := e.firstSlots(1, "Asia/Tokyo")[0]
		form := url.Values{"name": {"Ada"}, "email": {"not-an-email"}, "target_title": {"Software Engineer"}, "start": {start},
			"timezone": {"Asia/Tokyo"}, "utm_source": {"newsletter"}, "form_key": {"f1"}}
		w := e.postForm("/roles/software-engineer/book", form)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `value="Ada"`) ||
			!strings.Contains(w.Body.String(), "not a valid address") || !strings.Contains(w.Body.String(), "please agree") {
			t.Fatalf("invalid form: %d", w.Code)
		}
		form.Set("email", "ada@example.com")
		form.Set("consent", "yes")
		w = e.postForm("/roles/software-engineer/book", form)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/bookings/") {
			t.Fatalf("valid form: %d %s", w.Code, loc)
		}
		again := e.postForm("/roles/software-engineer/book", form)
		if again.Code != http.StatusSeeOther || again.Header().Get("Location") != loc {
			t.Fatalf("double submit: %d %s", again.Code, again.Header().Get("Location"))
		}
		conf := e.do(http.MethodGet, loc, nil)
		if conf.Code != 200 || !strings.Contains(conf.Body.String(), "Asia/Tokyo") || !strings.Contains(conf.Body.String(), "invite.ics") {
			t.Fatalf("confirmation page: %d", conf.Code)
		}
		var lead models.Lead
		e.store.DB().Where("email_key = ?", "ada@example.com").Take(&lead)
		if lead.UTMSource != "newsletter" || lead.TargetTitle != "Software Engineer" {
			t.Errorf("lead %+v", lead)
		}
		// Someone else now submits the taken time: the form comes back with fresh times.
		form.Set("email", "bob@example.com")
		form.Set("form_key", "f2")
		w = e.postForm("/roles/software-engineer/book", form)
		if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "just taken") || !strings.Contains(w.Body.String(), `value="bob@example.com"`) {
			t.Fatalf("taken slot: %d", w.Code)
		}
	})
}

func TestBookingForm_HoneypotDropsBotsQuietly(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	start := e.firstSlots(1, "UTC")[0]
	form := url.Values{"name": {"Bot"}, "email": {"bot@example.com"}, "target_title": {"X"}, "start": {start},
		"timezone": {"UTC"}, "consent": {"yes"}, "website": {"http://spam.example"}}
	w := e.postForm("/roles/backend-engineer/book", form)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("honeypot: %d", w.Code)
	}
	var n int64
	e.store.DB().Model(&models.Booking{}).Count(&n)
	if n != 0 {
		t.Fatal("a bot booked a call")
	}
}

func TestCrossSiteFormPostIsRefused(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	w := e.postForm("/roles/backend-engineer/book", url.Values{"name": {"x"}}, "Sec-Fetch-Site", "cross-site")
	if w.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", w.Code)
	}
}

func TestPublicPages_RenderWithSecurityHeaders(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	for path, want := range map[string]string{
		"/":                             "Backend Engineer",
		"/roles/backend-engineer":       "Book a discovery call",
		"/roles/software-engineer":      "5,786",
		"/roles/backend-engineer/book":  "Show the times",
		"/roles/software-engineer/book": "Book the call",
		"/roles/backend-engineer/book?step=times&answers.experience=1-2": "Book the call",
		"/api/v1/roles":                  `"monthly_openings":236`,
		"/api/v1/roles/backend-engineer": `"kind":"select"`,
		"/healthz":                       "ok",
		"/readyz":                        "ready",
	} {
		w := e.do(http.MethodGet, path, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d, missing %q", path, w.Code, want)
		}
		h := w.Header()
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: security headers %v", path, h)
		}
	}
	be := e.do(http.MethodGet, "/roles/backend-engineer", nil).Body.String()
	for _, want := range []string{"236", "$130K–$360K", "Stripe", "Anthropic", "MongoDB", "Server-Side Engineer", "anchoring on Software Engineer"} {
		if !strings.Contains(be, want) {
			t.Errorf("backend page lacks %q", want)
		}
	}
	if w := e.do(http.MethodGet, "/roles/astronaut", nil); w.Code != 404 {
		t.Errorf("unknown role: %d", w.Code)
	}
}

func TestMetrics_CountBookingsAndConflicts(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	start := e.firstSlots(1, "UTC")[0]
	e.postJSON("/api/v1/bookings", bookingBody("a@example.com", start))
	e.postJSON("/api/v1/bookings", bookingBody("b@example.com", start))
	admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
	body := e.do(http.MethodGet, "/metrics", nil, "Authorization", "Bearer "+admin.Token).Body.String()
	for _, want := range []string{"callbook_bookings_created_total 1", "callbook_booking_conflicts_total 1",
		`callbook_http_requests_total{method="POST",route="/api/v1/bookings",status="201"} 1`, "callbook_http_request_duration_seconds_bucket"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestAPIBooking_IdempotencyKeyExpiresAfterADay(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	starts := e.firstSlots(2, "UTC")
	first := e.postJSON("/api/v1/bookings", bookingBody("ada@example.com", starts[0]), "Idempotency-Key", "day-old")
	if first.Code != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	e.clock.Advance(24*time.Hour + time.Minute)
	// A day later the key is free again: another body books anew instead
	// of answering idempotency_conflict.
	again := e.postJSON("/api/v1/bookings", bookingBody("ada@example.com", e.firstSlots(1, "UTC")[0]), "Idempotency-Key", "day-old")
	if again.Code != http.StatusCreated || again.Body.String() == first.Body.String() {
		t.Fatalf("after 24 h: %d %s", again.Code, again.Body)
	}
}

func TestRateLimit_ZeroTurnsItOff(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.RateLimit = 0 })
	for i := range 100 {
		if w := e.postJSON("/api/v1/bookings", `{}`); w.Code == http.StatusTooManyRequests {
			t.Fatalf("request %d limited with the limit off", i)
		}
	}
}
