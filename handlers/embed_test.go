package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// embedSites are the origins the embedding tests allow to frame the flow.
var embedSites = []string{"https://www.example.com", "http://127.0.0.1:5555"}

const embedAncestors = "frame-ancestors https://www.example.com http://127.0.0.1:5555"

func newEmbedServer(t *testing.T, dialect string) *testEnv {
	t.Helper()
	return newTestServer(t, dialect, func(o *Options) { o.EmbedOrigins = embedSites })
}

func TestParseEmbedOrigins(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		" https://www.example.com ":           "https://www.example.com",
		"https://WWW.Example.com/":            "https://www.example.com",
		"https://a.example:443,http://b:80":   "https://a.example http://b",
		"http://localhost:3000, https://a.b":  "http://localhost:3000 https://a.b",
		"https://a.example,https://a.example": "https://a.example",
		"http://[::1]:8081":                   "http://[::1]:8081",
	} {
		got, err := ParseEmbedOrigins(in)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("ParseEmbedOrigins(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"www.example.com", "https://", "*", "https://*.example.com", "ftp://example.com",
		"https://example.com/careers", "https://example.com?x=1", "https://user@example.com", "https://example.com:",
		"https://a.example 'self'", "https://example.com#top", "javascript:alert(1)"} {
		if got, err := ParseEmbedOrigins(in); err == nil || !strings.Contains(err.Error(), "is not an origin") {
			t.Errorf("ParseEmbedOrigins(%q) = %q, %v; want an error", in, got, err)
		}
	}
}

// TestEmbed_FrameAncestorsListsExactlyTheOrigins checks every answer of
// the embedded flow (form, form with errors, confirmation, unknown role):
// framable by the configured origins and no others, no X-Frame-Options.
func TestEmbed_FrameAncestorsListsExactlyTheOrigins(t *testing.T) {
	e := newEmbedServer(t, store.DialectSQLite)
	token, _ := e.mustBookAPI("ada@example.com", e.firstSlots(1, "UTC")[0])
	for name, w := range map[string]*httptest.ResponseRecorder{
		"form":         e.do(http.MethodGet, "/embed/roles/backend-engineer/book", nil),
		"errors":       e.postForm("/embed/roles/backend-engineer/book", url.Values{"name": {"Ada"}}),
		"confirmation": e.do(http.MethodGet, "/embed/bookings/"+token, nil),
		"unknown role": e.do(http.MethodGet, "/embed/roles/astronaut/book", nil),
	} {
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.HasSuffix(csp, "; "+embedAncestors) || strings.Count(csp, "frame-ancestors") != 1 {
			t.Errorf("%s (%d): CSP %q, want it to end with %q", name, w.Code, csp, embedAncestors)
		}
		if xfo := w.Header().Get("X-Frame-Options"); xfo != "" {
			t.Errorf("%s: X-Frame-Options %q would forbid the frame", name, xfo)
		}
		if strings.Contains(w.Body.String(), "site-header") || strings.Contains(w.Body.String(), "site-footer") {
			t.Errorf("%s: the embedded page carries the site's header or footer", name)
		}
	}
}

func TestEmbed_WithoutOriginsNothingMayFrame(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	w := e.do(http.MethodGet, "/embed/roles/backend-engineer/book", nil)
	if w.Code != 200 || !strings.HasSuffix(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		w.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("embed page without CALLBOOK_EMBED_ORIGINS: %d %v", w.Code, w.Header())
	}
}

// TestFraming_EveryOtherPageKeepsNone sends every route of the router
// outside /embed/, signed out and as an admin, with embedding configured:
// each answer, whatever its status, still forbids every frame.
func TestFraming_EveryOtherPageKeepsNone(t *testing.T) {
	e := newEmbedServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
	token, bookingID := e.mustBookAPI("ada@example.com", e.firstSlots(1, "UTC")[0])
	params := strings.NewReplacer(":token", token, ":slug", "backend-engineer", ":id", "1",
		":delivery_id", "1", "*filepath", "site.css", "export.csv", "export.csv")
	param := regexp.MustCompile(`[:*][a-z_]+`)
	checked := 0
	for _, r := range e.srv.engine.Routes() {
		if strings.HasPrefix(r.Path, "/embed/") {
			continue
		}
		path := param.ReplaceAllString(params.Replace(r.Path), "1")
		if strings.Contains(r.Path, ":id") && strings.Contains(r.Path, "bookings") {
			path = strings.Replace(params.Replace(r.Path), "/1/", "/"+itoa(int(bookingID))+"/", 1)
		}
		for _, who := range []*staffer{nil, admin} {
			headers := []string{"Sec-Fetch-Site", "same-origin"}
			if who != nil {
				headers = append(headers, "Cookie", sessionCookie+"="+who.Cookie)
			}
			w := e.do(r.Method, path, nil, headers...)
			csp := w.Header().Get("Content-Security-Policy")
			if !strings.HasSuffix(csp, "frame-ancestors 'none'") || strings.Count(csp, "frame-ancestors") != 1 ||
				w.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s %s (%d): CSP %q, X-Frame-Options %q; want frame-ancestors 'none' and DENY",
					r.Method, path, w.Code, csp, w.Header().Get("X-Frame-Options"))
			}
			checked++
		}
	}
	for _, path := range []string{"/no/such/page", "/embed", "/embed/roles/backend-engineer", "/api/v1/nowhere"} {
		w := e.do(http.MethodGet, path, nil)
		if !strings.HasSuffix(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s (%d): frame-ancestors not 'none'", path, w.Code)
		}
	}
	if checked < 60 {
		t.Fatalf("checked only %d answers; is the router built?", checked)
	}
}

// TestEmbed_BookingThroughTheFrameMarksTheLead books the way the frame
// does, with no JavaScript: the host page's UTM, address and referrer ride
// along from page to page, the form posts to the embedded flow, the
// confirmation stays in it and names the booking for the embedding page,
// and the lead says it came through the embedded form.
func TestEmbed_BookingThroughTheFrameMarksTheLead(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEmbedServer(t, dialect)
		hostPage := "https://www.example.com/careers?utm_source=newsletter&id=7"
		q := url.Values{"utm_source": {"newsletter"}, "utm_campaign": {"spring"}, "page": {hostPage},
			"ref": {"https://news.example/issue-12"}, "origin": {"https://www.example.com"}, "tz": {"Europe/Berlin"}}
		// The questions carry the frame's state on to the times.
		w := e.do(http.MethodGet, "/embed/roles/backend-engineer/book?"+q.Encode(), nil)
		for _, want := range []string{`action="/embed/roles/backend-engineer/book"`, `name="origin" value="https://www.example.com"`, `name="answers.experience"`} {
			if !strings.Contains(w.Body.String(), want) {
				t.Fatalf("embedded questions lack %s", want)
			}
		}
		q.Set("step", "times")
		q.Set("answers.experience", "1-2")
		w = e.do(http.MethodGet, "/embed/roles/backend-engineer/book?"+q.Encode(), nil)
		body := w.Body.String()
		for _, want := range []string{`action="/embed/roles/backend-engineer/book"`, `data-embed-origin="https://www.example.com"`,
			`name="page" value="https://www.example.com/careers?utm_source=newsletter&amp;id=7"`, `name="origin" value="https://www.example.com"`,
			`name="utm_source" value="newsletter"`, `name="utm_campaign" value="spring"`, `name="referrer" value="https://news.example/issue-12"`,
			`/static/embed-frame.js`, `origin=https%3a%2f%2fwww.example.com`} {
			if !strings.Contains(body, want) {
				t.Fatalf("embedded form lacks %s:\n%s", want, body)
			}
		}
		start := e.firstSlots(1, "Europe/Berlin")[0]
		form := url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "target_title": {"Backend Engineer"},
			"start": {start}, "timezone": {"Europe/Berlin"}, "consent": {"yes"}, "form_key": {"k1"},
			"utm_source": {"newsletter"}, "utm_campaign": {"spring"}, "referrer": {"https://news.example/issue-12"},
			"page": {hostPage}, "origin": {"https://www.example.com"}, "answers.experience": {"1-2"}}
		w = e.postForm("/embed/roles/backend-engineer/book", form)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/embed/bookings/") ||
			!strings.HasSuffix(loc, "?done=booked&origin=https%3A%2F%2Fwww.example.com") {
			t.Fatalf("embedded form: %d %q", w.Code, loc)
		}
		if again := e.postForm("/embed/roles/backend-engineer/book", form); again.Header().Get("Location") != loc {
			t.Fatalf("double submit lands elsewhere: %q", again.Header().Get("Location"))
		}
		var lead models.Lead
		e.store.DB().Where("email_key = ?", "ada@example.com").Take(&lead)
		if lead.Source != models.SourceEmbed || lead.PageURL != hostPage || lead.UTMSource != "newsletter" ||
			lead.UTMCampaign != "spring" || lead.Referrer != "https://news.example/issue-12" {
			t.Fatalf("lead not marked as embedded: %+v", lead)
		}
		var b models.Booking
		e.store.DB().Where("lead_id = ?", lead.ID).Take(&b)
		w = e.do(http.MethodGet, loc, nil)
		body = w.Body.String()
		for _, want := range []string{`data-booked="` + itoa(int(b.ID)) + `"`, `data-embed-origin="https://www.example.com"`,
			`target="_blank" rel="noopener">Reschedule`, "confirmed"} {
			if w.Code != 200 || !strings.Contains(body, want) {
				t.Fatalf("embedded confirmation (%d) lacks %s:\n%s", w.Code, want, body)
			}
		}
		if plain := e.do(http.MethodGet, strings.Replace(strings.Split(loc, "?")[0], "/embed", "", 1), nil); strings.Contains(plain.Body.String(), "data-booked") {
			t.Error("the site's own confirmation page posts to an embedding page")
		}

		// The staff see where the lead booked; erasing keeps only the site.
		admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
		w = e.page(admin, http.MethodGet, "/admin/leads/"+itoa(int(lead.ID)), nil)
		if !strings.Contains(w.Body.String(), "booking form embedded in https://www.example.com/careers") ||
			!strings.Contains(w.Body.String(), "newsletter · booking form on example.com") {
			t.Fatalf("staff lead page does not show the embed:\n%s", w.Body.String())
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/leads/"+itoa(int(lead.ID)), "")
		if !strings.Contains(w.Body.String(), `"source":"embed","page_url":"https://www.example.com/careers?utm_source=newsletter\u0026id=7"`) {
			t.Fatalf("Lead JSON lacks the embed: %s", w.Body.String())
		}
		if w := e.api(admin, http.MethodDelete, "/api/v1/admin/leads/"+itoa(int(lead.ID)), ""); w.Code != http.StatusNoContent {
			t.Fatalf("erase: %d", w.Code)
		}
		e.store.DB().Where("id = ?", lead.ID).Take(&lead)
		if lead.PageURL != "https://www.example.com" || lead.Source != models.SourceEmbed {
			t.Fatalf("erased lead keeps %q %q, want the site only", lead.Source, lead.PageURL)
		}
	})
}

// TestEmbed_UnknownOriginAndOddPagesAreLeftOut: an origin not configured
// gets no messages from the frame, a page address that is not a web URL is
// not recorded, and the booking goes through either way.
func TestEmbed_UnknownOriginAndOddPagesAreLeftOut(t *testing.T) {
	e := newEmbedServer(t, store.DialectSQLite)
	w := e.do(http.MethodGet, "/embed/roles/backend-engineer/book?origin=https://evil.example&page=javascript:alert(1)", nil)
	if strings.Contains(w.Body.String(), "data-embed-origin") || strings.Contains(w.Body.String(), "evil.example") ||
		strings.Contains(w.Body.String(), "alert") {
		t.Fatalf("unknown origin or odd page kept:\n%s", w.Body.String())
	}
	form := url.Values{"name": {"Bo"}, "email": {"bo@example.com"}, "target_title": {"Backend Engineer"},
		"start": {e.firstSlots(1, "UTC")[0]}, "timezone": {"UTC"}, "consent": {"yes"},
		"page": {"javascript:alert(1)"}, "origin": {"https://evil.example"}, "answers.experience": {"1-2"}}
	w = e.postForm("/embed/roles/backend-engineer/book", form)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc == "" || strings.Contains(loc, "evil") {
		t.Fatalf("booking: %d %q", w.Code, loc)
	}
	var lead models.Lead
	e.store.DB().Where("email_key = ?", "bo@example.com").Take(&lead)
	if lead.Source != models.SourceEmbed || lead.PageURL != "" {
		t.Fatalf("lead: source %q page %q", lead.Source, lead.PageURL)
	}
}

// TestEmbed_CrossSitePostsAreRefused: the frame's form posts from
// Callbook's own origin; a form on any other site, an embedding one
// included, is refused and books nothing.
func TestEmbed_CrossSitePostsAreRefused(t *testing.T) {
	e := newEmbedServer(t, store.DialectSQLite)
	form := url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "target_title": {"X"},
		"start": {e.firstSlots(1, "UTC")[0]}, "timezone": {"UTC"}, "consent": {"yes"}, "answers.experience": {"1-2"}}
	for name, headers := range map[string][]string{
		"cross-site fetch metadata":   {"Sec-Fetch-Site", "cross-site"},
		"embedding site's origin":     {"Sec-Fetch-Site", "", "Origin", "https://www.example.com"},
		"other origin, no fetch data": {"Sec-Fetch-Site", "", "Origin", "https://evil.example"},
	} {
		w := e.postForm("/embed/roles/backend-engineer/book", form, headers...)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, w.Code)
		}
	}
	var n int64
	e.store.DB().Model(&models.Booking{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d bookings from forged posts", n)
	}
	if w := e.postForm("/embed/roles/backend-engineer/book", form); w.Code != http.StatusSeeOther {
		t.Fatalf("the frame's own post: %d", w.Code)
	}
}
