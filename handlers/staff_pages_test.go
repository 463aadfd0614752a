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

const xss = `<script>alert(1)</script>`

func TestStaffPages_EscapeEverythingAVisitorTypedAndSendSecurityHeaders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		lead, _ := e.mustBookLead("ada@example.com", 0, func(b map[string]any) {
			b["name"], b["current_title"], b["target_title"] = xss, xss, xss+" Engineer"
			b["message"] = `<img src=x onerror=alert(1)>`
			b["utm"] = map[string]string{"source": `"><script>alert(1)</script>`, "campaign": xss}
		})
		if _, err := e.store.AddNote(t.Context(), lead, xss, admin.User); err != nil {
			t.Fatal(err)
		}
		pages := []string{"/admin/leads", "/admin/leads/" + itoa(int(lead)), "/admin/calls", "/admin/mail",
			"/admin/leads?q=" + url.QueryEscape(xss), "/admin/leads/" + itoa(int(lead)) + "/erase"}
		for _, p := range pages {
			w := e.page(admin, http.MethodGet, p, nil)
			body := w.Body.String()
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d", p, w.Code)
			}
			if rawScript.MatchString(body) {
				t.Errorf("%s: visitor text reached the page unescaped", p)
			}
			if p != "/admin/mail" && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s: the escaped name is missing", p)
			}
			h := w.Header()
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s: CSP %q", p, csp)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: headers %v", p, h)
			}
			if strings.Contains(body, "<script") {
				t.Errorf("%s: staff pages carry no script at all", p)
			}
		}
	})
}

func TestLeadListPage_FiltersInTheURLCountAndNextPage(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		e.mustInsertLeads(pageLeadLimit+5, func(i int, l *models.Lead) {
			l.UTMSource, l.Status = "newsletter", models.LeadContacted
			if i == 0 {
				l.Name, l.Referrer, l.UTMSource, l.Status = "Oldest Lead", "https://www.news.example/x", "", models.LeadQualified
				l.OwnerID = &sales.User.ID
			}
		})
		booked, _ := e.mustBookLead("ada@example.com", 0, nil)

		w := e.page(sales, http.MethodGet, "/admin/leads", nil)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, "56 leads") || !strings.Contains(body, `rel="next"`) {
			t.Fatalf("first page: %d", w.Code)
		}
		first := strings.Index(body, `/admin/leads/`+itoa(int(booked))+`"`)
		if first < 0 || first > strings.Index(body, "Lead 54") {
			t.Fatal("the newest lead (just booked) is not first")
		}
		if !strings.Contains(body, "google / cpc") || !strings.Contains(body, `class="badge status-new"`) {
			t.Fatal("row lacks source or status badge")
		}
		next := regexpFind(t, body, `href="(/admin/leads\?cursor=[^"]+)" rel="next"`)
		w = e.page(sales, http.MethodGet, strings.ReplaceAll(next, "&amp;", "&"), nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Oldest Lead") || strings.Contains(w.Body.String(), `rel="next"`) {
			t.Fatalf("second page: %d", w.Code)
		}
		w = e.page(sales, http.MethodGet, "/admin/leads?status=qualified&owner_id="+itoa(int(sales.User.ID)), nil)
		body = w.Body.String()
		if !strings.Contains(body, "1 lead match") || !strings.Contains(body, "Oldest Lead") || !strings.Contains(body, "news.example") ||
			!strings.Contains(body, `<option value="qualified" selected>`) {
			t.Fatalf("filtered page: %d", w.Code)
		}
		if w := e.page(sales, http.MethodGet, "/admin/leads?created_from=someday", nil); w.Code != 422 {
			t.Fatalf("bad date: %d", w.Code)
		}
	})
}

func TestLeadPage_ChangeStatusOwnerAndAddNotesShowOnTheTimeline(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil)
		path := "/admin/leads/" + itoa(int(lead))
		form := url.Values{"status": {"contacted"}, "owner_id": {itoa(int(sales.User.ID))}, "recommended_title": {"Platform Engineer"}}
		if w := e.page(sales, http.MethodPost, path, form); w.Code != 303 || location(w) != path+"?saved=1" {
			t.Fatalf("save: %d %q", w.Code, location(w))
		}
		if w := e.page(sales, http.MethodPost, path+"/notes", url.Values{"body": {"Left a voicemail"}}); w.Code != 303 {
			t.Fatalf("note: %d", w.Code)
		}
		w := e.page(sales, http.MethodGet, path+"?saved=1", nil)
		body := w.Body.String()
		for _, want := range []string{"Saved.", "Left a voicemail", "lead.status_changed", "lead.owner_changed", "note.added",
			models.ActorUser(sales.User)[:5], `<option selected>contacted</option>`, "Platform Engineer", "Europe/Berlin", "lead.created"} {
			if !strings.Contains(body, strings.ReplaceAll(want, "<", "<")) {
				t.Errorf("lead page lacks %q", want)
			}
		}
		if strings.Contains(body, `/erase"`) || strings.Contains(body, `href="/admin/availability"`) || strings.Contains(body, `href="/admin/export"`) {
			t.Error("sales sees the erase action, the settings or the export")
		}
		w = e.page(sales, http.MethodPost, path, url.Values{"status": {"won"}, "owner_id": {""}, "recommended_title": {"X"}})
		if w.Code != 422 || !strings.Contains(w.Body.String(), "must be one of") || !strings.Contains(w.Body.String(), `value="X"`) {
			t.Fatalf("bad status: %d", w.Code)
		}
		w = e.page(sales, http.MethodPost, path+"/notes", url.Values{"body": {" "}})
		if w.Code != 422 || !strings.Contains(w.Body.String(), "is required") || !strings.Contains(w.Body.String(), `<option selected>contacted</option>`) {
			t.Fatalf("empty note: %d (the change form must keep the lead's status)", w.Code)
		}
		// A disabled owner stays shown and is kept when the form is saved.
		e.store.DB().Model(&models.User{}).Where("id = ?", sales.User.ID).Update("disabled", true)
		other := e.mustStaff("other@example.com", models.RoleSales)
		body = e.page(other, http.MethodGet, path, nil).Body.String()
		if !strings.Contains(body, `selected>sales (inactive)</option>`) {
			t.Fatal("the inactive owner is not shown as the current owner")
		}
		form.Set("status", "qualified")
		form.Del(csrfField)
		if w := e.page(other, http.MethodPost, path, form); w.Code != 303 {
			t.Fatalf("save with an inactive owner: %d %s", w.Code, w.Body.String())
		}
		if l, _ := e.store.LeadByID(t.Context(), lead); l.OwnerID == nil || *l.OwnerID != sales.User.ID || l.Status != "qualified" {
			t.Fatalf("lead after save %+v", l)
		}
		if w := e.page(other, http.MethodGet, "/admin/leads/99999", nil); w.Code != 404 {
			t.Fatalf("unknown lead: %d", w.Code)
		}
	})
}

func TestCallsPage_PastCallsWithoutOutcomeStandOutAndTakeOutcomes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		_, first := e.mustBookLead("ada@example.com", 0, nil)
		e.mustBookLead("bob@example.com", 20, nil)
		w := e.page(sales, http.MethodGet, "/admin/calls", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Every past call has an outcome") || strings.Count(w.Body.String(), `class="day-head"`) != 2 {
			t.Fatalf("calls before: %d", w.Code)
		}
		b := e.mustBooking(first)
		e.clock.Set(b.EndAt.Add(time.Minute))
		body := e.page(sales, http.MethodGet, "/admin/calls", nil).Body.String()
		if !strings.Contains(body, `class="needs-outcome"`) || !strings.Contains(body, `value="no_show"`) || strings.Count(body, `class="day-head"`) != 1 {
			t.Fatal("the past call without an outcome does not stand out with buttons")
		}
		w = e.page(sales, http.MethodPost, "/admin/bookings/"+itoa(int(first))+"/outcome", url.Values{"outcome": {"completed"}, "back": {"/admin/calls"}})
		if w.Code != 303 || location(w) != "/admin/calls" {
			t.Fatalf("outcome: %d %q", w.Code, location(w))
		}
		if e.mustBooking(first).Status != models.BookingCompleted {
			t.Fatal("outcome not saved")
		}
		w = e.page(sales, http.MethodPost, "/admin/bookings/"+itoa(int(first))+"/outcome", url.Values{"outcome": {"no_show"}, "back": {"https://evil.example/"}})
		if location(w) != "/admin/calls" {
			t.Fatalf("redirected off-site: %q", location(w))
		}
	})
}

func TestAvailabilityPage_ShowsEachProblemBesideItsInput(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		w := e.page(admin, http.MethodGet, "/admin/availability", nil)
		host := regexpFind(t, w.Body.String(), `name="host_id" value="(\d+)"`)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `name="mon_start"`) || !strings.Contains(w.Body.String(), `value="09:00"`) {
			t.Fatalf("form: %d", w.Code)
		}
		form := url.Values{"host_id": {host}, "duration_minutes": {"30"}, "buffer_minutes": {"x"}, "min_notice_minutes": {"240"},
			"horizon_days": {"30"}, "max_per_day": {"0"}}
		w = e.page(admin, http.MethodPost, "/admin/availability", form)
		if w.Code != 422 || !strings.Contains(w.Body.String(), "must be a whole number") {
			t.Fatalf("bad number: %d", w.Code)
		}
		form.Set("buffer_minutes", "0")
		form["tue_start"], form["tue_end"] = []string{"09:00", "", "11:00"}, []string{"12:00", "", "13:00"}
		form["ov_date"], form["ov_start"], form["ov_end"] = []string{"2026-12-24", "not-a-date"}, []string{"", "10:00"}, []string{"", "11:00"}
		w = e.page(admin, http.MethodPost, "/admin/availability", form)
		body := w.Body.String()
		if w.Code != 422 || !strings.Contains(body, "windows overlap") || !strings.Contains(body, "must be a date as YYYY-MM-DD") ||
			!strings.Contains(body, `value="11:00"`) {
			t.Fatalf("overlap: %d %s", w.Code, body)
		}
		form["tue_start"], form["tue_end"] = []string{"09:00", "", "13:00"}, []string{"12:00", "", "17:00"}
		form["ov_date"] = []string{"2026-12-24", "2026-12-31"}
		w = e.page(admin, http.MethodPost, "/admin/availability", form)
		if w.Code != 303 {
			t.Fatalf("save: %d %s", w.Code, w.Body.String())
		}
		cfg, err := e.store.Availability(t.Context(), 0)
		if err != nil || len(cfg.Weekly) != 1 || len(cfg.Weekly["tue"]) != 2 || len(cfg.Overrides) != 2 || len(cfg.Overrides[0].Hours) != 0 {
			t.Fatalf("saved %+v %v", cfg, err)
		}
	})
}

func TestUsersPage_AddChangeAndKeepAnAdmin(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		form := url.Values{"email": {"new@example.com"}, "name": {"Nina"}, "role": {"sales"}, "host": {"on"}, "password": {"password1234"}}
		w := e.page(admin, http.MethodPost, "/admin/users", form)
		if w.Code != 422 || !strings.Contains(w.Body.String(), "commonly used") || !strings.Contains(w.Body.String(), `value="new@example.com"`) ||
			strings.Contains(w.Body.String(), "password1234") {
			t.Fatalf("weak password: %d", w.Code)
		}
		form.Set("password", "plum-otter-violin-42")
		if w := e.page(admin, http.MethodPost, "/admin/users", form); w.Code != 303 {
			t.Fatalf("add: %d %s", w.Code, w.Body.String())
		}
		u, err := e.store.UserByEmail(t.Context(), "new@example.com")
		if err != nil || !u.Host || u.Role != models.RoleSales {
			t.Fatalf("added %+v %v", u, err)
		}
		w = e.page(admin, http.MethodPost, "/admin/users/"+itoa(int(admin.User.ID)), url.Values{"role": {"sales"}})
		if w.Code != 422 || !strings.Contains(w.Body.String(), "Not saved") {
			t.Fatalf("demoting the last admin: %d", w.Code)
		}
		w = e.page(admin, http.MethodPost, "/admin/users/"+itoa(int(u.ID)), url.Values{"role": {"admin"}, "host": {"no"}, "active": {"yes"}, "name": {"Nina K"}})
		if w.Code != 303 {
			t.Fatalf("change: %d", w.Code)
		}
		if u, _ = e.store.UserByID(t.Context(), u.ID); u.Role != models.RoleAdmin || u.Host || u.Name != "Nina K" {
			t.Fatalf("changed %+v", u)
		}
	})
}

func TestErasePage_NeedsTheTypedConfirmation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil)
		path := "/admin/leads/" + itoa(int(lead)) + "/erase"
		if w := e.page(admin, http.MethodGet, path, nil); w.Code != 200 || !strings.Contains(w.Body.String(), "cannot be undone") {
			t.Fatalf("confirm page: %d", w.Code)
		}
		if w := e.page(admin, http.MethodPost, path, url.Values{"confirm": {"erase"}}); w.Code != 422 {
			t.Fatalf("wrong word: %d", w.Code)
		}
		if e.page(admin, http.MethodGet, "/admin/leads/"+itoa(int(lead)), nil).Code != 200 {
			t.Fatal("lead erased without confirmation")
		}
		if w := e.page(admin, http.MethodPost, path, url.Values{"confirm": {"ERASE"}}); w.Code != 303 || location(w) != "/admin/leads?erased=1" {
			t.Fatalf("erase: %d", w.Code)
		}
		if w := e.page(admin, http.MethodGet, "/admin/leads/"+itoa(int(lead)), nil); w.Code != 404 {
			t.Fatalf("erased lead page: %d", w.Code)
		}
	})
}

// fakeViewer renders an outbox row the way a mailer would, for the viewer.
type fakeViewer struct{}

func (fakeViewer) ViewOutbox(m models.OutboxMessage) (MailPreview, error) {
	return MailPreview{Subject: "Your call <b>is booked</b>", Text: "Hello " + m.ToName, HTML: "<p style=\"color:red\">Hello</p>",
		ICS: []byte("BEGIN:VCALENDAR")}, nil
}

func TestMailViewer_ListsShowsAsSentAndRetriesFailed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect, func(o *Options) { o.MailViewer = fakeViewer{} })
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		e.mustBookLead("ada@example.com", 0, nil)
		var m models.OutboxMessage
		e.store.DB().Where("kind = ?", models.MailConfirmation).Take(&m)
		e.store.DB().Model(&m).Updates(map[string]any{"status": models.OutboxFailed, "attempts": 5, "last_error": "550 mailbox <unknown>"})

		w := e.page(admin, http.MethodGet, "/admin/mail?status=failed", nil)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, "550 mailbox &lt;unknown&gt;") || !strings.Contains(body, "/admin/mail/"+itoa(int(m.ID))+"/retry") ||
			strings.Contains(body, "host-notice") {
			t.Fatalf("failed tab: %d", w.Code)
		}
		w = e.page(admin, http.MethodGet, "/admin/mail/"+itoa(int(m.ID)), nil)
		body = w.Body.String()
		if w.Code != 200 || !strings.Contains(body, "Your call &lt;b&gt;is booked&lt;/b&gt;") || !strings.Contains(body, "BEGIN:VCALENDAR") ||
			!strings.Contains(body, `<iframe class="mail-frame" title="HTML part of the email" sandbox`) {
			t.Fatalf("message: %d", w.Code)
		}
		w = e.page(admin, http.MethodGet, "/admin/mail/"+itoa(int(m.ID))+"/html", nil)
		if csp := w.Header().Get("Content-Security-Policy"); w.Code != 200 || !strings.HasPrefix(csp, "sandbox") ||
			!strings.Contains(csp, "default-src 'none'") || w.Body.String() != `<p style="color:red">Hello</p>` {
			t.Fatalf("html part: %d %q", w.Code, csp)
		}
		w = e.page(admin, http.MethodPost, "/admin/mail/"+itoa(int(m.ID))+"/retry", nil)
		if w.Code != 303 {
			t.Fatalf("retry: %d", w.Code)
		}
		got, _ := e.store.OutboxByID(t.Context(), m.ID)
		if got.Status != models.OutboxPending || got.Attempts != 0 {
			t.Fatalf("after retry %+v", got)
		}
		if w := e.page(admin, http.MethodPost, "/admin/mail/"+itoa(int(m.ID))+"/retry", nil); w.Code != 422 {
			t.Fatalf("retrying a pending email: %d", w.Code)
		}
	})
}

// TestAvailabilityPage_AddsRowsWithoutJavaScript checks the form's time
// inputs and its "Add hours" and "Add a date" buttons as plain submits:
// the form comes back unsaved, as typed, with one more empty row there.
func TestAvailabilityPage_AddsRowsWithoutJavaScript(t *testing.T) {
	e := newTestServer(t, "sqlite")
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	w := e.page(admin, http.MethodGet, "/admin/availability", nil)
	host := regexpFind(t, w.Body.String(), `name="host_id" value="(\d+)"`)
	if n := strings.Count(w.Body.String(), `type="time"`); n < 2*7 {
		t.Fatalf("%d time inputs, want a start and an end for each weekday at least", n)
	}
	before, err := e.store.Availability(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"host_id": {host}, "duration_minutes": {"30"}, "buffer_minutes": {"0"}, "min_notice_minutes": {"240"},
		"horizon_days": {"30"}, "max_per_day": {"0"}, "add_row": {"wed"},
		"wed_start": {"08:00", "13:00"}, "wed_end": {"12:00", "18:00"}, "ov_date": {"2026-12-24"}, "ov_start": {""}, "ov_end": {""}}
	w = e.page(admin, http.MethodPost, "/admin/availability", form)
	body := w.Body.String()
	if w.Code != http.StatusOK || strings.Count(body, `name="wed_start"`) != 3 || !strings.Contains(body, `value="13:00"`) ||
		strings.Count(body, `name="ov_date"`) != 1 {
		t.Fatalf("add hours: %d, %d wednesday rows, %d overrides, want 3 and 1", w.Code, strings.Count(body, `name="wed_start"`), strings.Count(body, `name="ov_date"`))
	}
	form.Set("add_row", "overrides")
	if w = e.page(admin, http.MethodPost, "/admin/availability", form); w.Code != http.StatusOK || strings.Count(w.Body.String(), `name="ov_date"`) != 2 {
		t.Fatalf("add a date: %d, %d override rows, want 2", w.Code, strings.Count(w.Body.String(), `name="ov_date"`))
	}
	after, err := e.store.Availability(t.Context(), 0)
	if err != nil || len(after.Weekly["wed"]) != len(before.Weekly["wed"]) || len(after.Overrides) != len(before.Overrides) {
		t.Fatalf("adding a row saved the form: %+v %v", after, err)
	}
}

// TestUsersPage_ShowsTheTeamsHostApart checks that the host the store
// creates for the team is shown as the team's host, without the sending
// address it was created with, and not as one of the people.
func TestUsersPage_ShowsTheTeamsHostApart(t *testing.T) {
	e := newTestServer(t, "sqlite")
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	body := e.page(admin, http.MethodGet, "/admin/users", nil).Body.String()
	people := body[strings.Index(body, `<table class="data users">`):]
	people = people[:strings.Index(people, "</table>")]
	if strings.Contains(people, models.DefaultHostName) || strings.Contains(body, "no-reply@callbook.test") {
		t.Errorf("the team's host is listed as a staff user with the sending address")
	}
	if !strings.Contains(body, "The team's host") || !strings.Contains(body, `<span class="badge">Team host</span>`) ||
		!strings.Contains(body, `value="`+models.DefaultHostName+`"`) || !strings.Contains(people, "admin@example.com") {
		t.Errorf("the team's host is not shown apart from the people:\n%s", body)
	}
}
