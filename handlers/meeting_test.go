package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	ics "github.com/arran4/golang-ical"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// newInviteServer is the router with the mail renderer, so invite.ics is served.
func newInviteServer(t *testing.T, dialect string) *testEnv {
	t.Helper()
	return newTestServer(t, dialect, func(o *Options) {
		r, err := mailer.NewRenderer(mailer.RendererOptions{BaseURL: "http://callbook.test", From: "Callbook <no-reply@callbook.test>",
			Location: o.Store.Location(), Token: o.Store.BookingToken, Now: o.Clock})
		if err != nil {
			t.Fatal(err)
		}
		o.Mail = r
	})
}

// mustSetMeeting saves a meeting place for the default host through the API.
func (e *testEnv) mustSetMeeting(admin *staffer, meeting string) {
	e.t.Helper()
	w := e.api(admin, http.MethodGet, "/api/v1/admin/availability", "")
	cfg := decode[map[string]any](e.t, w)
	body := strings.TrimSuffix(w.Body.String(), "}")
	body = body[:strings.Index(body, `"meeting":`)] + `"meeting":` + meeting + "}"
	if w := e.api(admin, http.MethodPut, "/api/v1/admin/availability", body); w.Code != http.StatusOK {
		e.t.Fatalf("set meeting %s over %v: %d %s", meeting, cfg, w.Code, w.Body.String())
	}
}

type meetingJSON struct {
	Kind    string `json:"kind"`
	URL     string `json:"url"`
	Address string `json:"address"`
}

// mustBookMeeting books slot i and returns its token and meeting.
func (e *testEnv) mustBookMeeting(email string, slot int) (token string, m meetingJSON) {
	e.t.Helper()
	start := e.firstSlots(slot+1, "Europe/Berlin")[slot]
	w := e.postJSON("/api/v1/bookings", bookingBody(email, start))
	if w.Code != http.StatusCreated {
		e.t.Fatalf("book: %d %s", w.Code, w.Body.String())
	}
	out := decode[struct {
		Booking struct {
			ManageURL string      `json:"manage_url"`
			Meeting   meetingJSON `json:"meeting"`
		} `json:"booking"`
	}](e.t, w)
	return out.Booking.ManageURL[strings.LastIndexByte(out.Booking.ManageURL, '/')+1:], out.Booking.Meeting
}

// inviteEvent fetches and parses a booking's invite.ics.
func (e *testEnv) inviteEvent(token string) *ics.VEvent {
	e.t.Helper()
	w := e.do(http.MethodGet, "/bookings/"+token+"/invite.ics", nil)
	if w.Code != http.StatusOK {
		e.t.Fatalf("invite.ics: %d %s", w.Code, w.Body.String())
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(w.Body.Bytes()))
	if err != nil || len(cal.Events()) != 1 {
		e.t.Fatalf("invite.ics does not parse (%v):\n%s", err, w.Body.String())
	}
	return cal.Events()[0]
}

func prop(ev *ics.VEvent, p ics.ComponentProperty) string {
	if v := ev.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func TestMeeting_EachKindInJSONPagesAndInvite(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newInviteServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		tests := []struct {
			name, meeting, kind string
			want                func(token string, m meetingJSON) (json, page, location string)
		}{
			{"video", `{"kind":"video","url":"https://meet.jit.si/acme-{booking}"}`, models.MeetingVideo,
				func(_ string, m meetingJSON) (string, string, string) { return m.URL, m.URL, m.URL }},
			{"phone", `{"kind":"phone"}`, models.MeetingPhone,
				func(string, meetingJSON) (string, string, string) { return "", "By phone", "Phone call to +1 555 0100" }},
			{"in person", `{"kind":"in_person","address":"12 Harbour Street, Boston"}`, models.MeetingInPerson,
				func(_ string, m meetingJSON) (string, string, string) {
					return m.Address, "In person: 12 Harbour Street, Boston", "12 Harbour Street, Boston"
				}},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				e.mustSetMeeting(admin, tt.meeting)
				token, m := e.mustBookMeeting("visitor"+itoa(i)+"@example.com", i)
				jsonWant, pageWant, locWant := tt.want(token, m)
				if m.Kind != tt.kind || (tt.kind == models.MeetingVideo && !strings.HasPrefix(m.URL, "https://meet.jit.si/acme-")) ||
					(tt.kind == models.MeetingInPerson && m.Address != "12 Harbour Street, Boston") {
					t.Fatalf("booking JSON meeting = %+v", m)
				}
				if strings.Contains(m.URL, "{booking}") {
					t.Errorf("the room placeholder was left in %q", m.URL)
				}
				got := decode[struct {
					Booking struct{ Meeting meetingJSON } `json:"booking"`
				}](t, e.do(http.MethodGet, "/api/v1/bookings/"+token, nil))
				if got.Booking.Meeting != m {
					t.Errorf("GET booking meeting %+v, want %+v (%s)", got.Booking.Meeting, m, jsonWant)
				}
				for _, path := range []string{"/bookings/" + token, "/bookings/" + token + "/cancel"} {
					if w := e.do(http.MethodGet, path, nil); w.Code != 200 || !strings.Contains(w.Body.String(), pageWant) {
						t.Errorf("%s lacks %q (%d)", path, pageWant, w.Code)
					}
				}
				ev := e.inviteEvent(token)
				if loc := prop(ev, ics.ComponentPropertyLocation); loc != locWant {
					t.Errorf("LOCATION %q, want %q", loc, locWant)
				}
				if u := prop(ev, ics.ComponentPropertyUrl); (tt.kind == models.MeetingVideo) != (u == m.URL) {
					t.Errorf("URL %q with meeting %+v", u, m)
				}
			})
		}
	})
}

func TestMeeting_BookingPlaceholderGivesEachCallItsOwnRoomKeptOnReschedule(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newInviteServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		e.mustSetMeeting(admin, `{"kind":"video","url":"https://meet.jit.si/acme-{booking}"}`)
		tokA, a := e.mustBookMeeting("a@example.com", 0)
		_, b := e.mustBookMeeting("b@example.com", 1)
		if a.URL == b.URL || !strings.HasPrefix(a.URL, "https://meet.jit.si/acme-") || !strings.HasPrefix(b.URL, "https://meet.jit.si/acme-") {
			t.Fatalf("two calls, rooms %q and %q", a.URL, b.URL)
		}
		to := e.firstSlots(5, "Europe/Berlin")[4]
		w := e.postJSON("/api/v1/bookings/"+tokA+"/reschedule", map[string]string{"start": to})
		if w.Code != 200 {
			t.Fatalf("reschedule: %d %s", w.Code, w.Body.String())
		}
		moved := decode[struct {
			Booking struct{ Meeting meetingJSON } `json:"booking"`
		}](t, w)
		if moved.Booking.Meeting != a {
			t.Errorf("after a move with the same host the room is %+v, was %+v", moved.Booking.Meeting, a)
		}
	})
}

// bookWithoutPhone asks the API for the call at start, leaving out the phone.
func (e *testEnv) bookWithoutPhone(email, start string) *httptest.ResponseRecorder {
	e.t.Helper()
	body := bookingBody(email, start)
	delete(body, "phone")
	return e.postJSON("/api/v1/bookings", body)
}

func TestMeeting_PhoneKindRequiresThePhoneNumber(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		e.mustSetMeeting(admin, `{"kind":"phone"}`)
		start := e.firstSlots(1, "Europe/Berlin")[0]

		w := e.bookWithoutPhone("ada@example.com", start)
		errJSON := decode[struct {
			Error struct {
				Code   string            `json:"code"`
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}](t, w)
		if w.Code != http.StatusUnprocessableEntity || errJSON.Error.Code != "validation_failed" || errJSON.Error.Fields["phone"] == "" {
			t.Fatalf("API without a phone: %d %s", w.Code, w.Body.String())
		}

		page := e.do(http.MethodGet, "/roles/backend-engineer/book", nil).Body.String()
		if !strings.Contains(page, "by phone") || strings.Contains(page, "by video") {
			t.Errorf("the booking page promises another kind of call than by phone")
		}
		form := url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "target_title": {"Backend Engineer"},
			"start": {start}, "timezone": {"Europe/Berlin"}, "consent": {"yes"}, "answers.experience": {"1-2"}}
		w = e.postForm("/roles/backend-engineer/book", form)
		html := w.Body.String()
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(html, `id="phone-error"`) ||
			!strings.Contains(html, `href="#phone"`) || !strings.Contains(html, `value="Ada"`) {
			t.Fatalf("form without a phone: %d, phone error beside the field and input kept expected", w.Code)
		}
		// Said as the other missing fields are, in the summary and beside
		// the field.
		const says = "Enter your phone number: your coach will phone you at the time of the call"
		if n := strings.Count(html, says); n != 2 || strings.Contains(html, "is required:") {
			t.Errorf("form without a phone says %q %d times (want 2: summary and field), or still says \"is required:\"", says, n)
		}
		form.Set("phone", "+1 555 0100")
		if w := e.postForm("/roles/backend-engineer/book", form); w.Code != http.StatusSeeOther {
			t.Fatalf("form with a phone: %d", w.Code)
		}
	})
}

func TestMeeting_MixedHostsGiveAVisitorWithoutPhoneAVideoHost(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		e.mustSetMeeting(admin, `{"kind":"phone"}`)
		ctx := context.Background()
		second, err := e.store.CreateUser(ctx, models.NewUser{Email: "ana@example.com", Name: "Ana", Role: models.RoleSales,
			Host: true, Password: "violet harbour tram 81"})
		if err != nil {
			t.Fatal(err)
		}
		page := e.do(http.MethodGet, "/roles/backend-engineer", nil).Body.String()
		if !strings.Contains(page, "by video or phone") {
			t.Errorf("role page does not offer both kinds the hosts offer")
		}
		start := e.firstSlots(1, "Europe/Berlin")[0]
		w := e.bookWithoutPhone("ada@example.com", start)
		out := decode[struct {
			Booking struct {
				Host    struct{ Name string } `json:"host"`
				Meeting meetingJSON           `json:"meeting"`
			} `json:"booking"`
		}](t, w)
		if w.Code != http.StatusCreated || out.Booking.Host.Name != second.Name || out.Booking.Meeting.Kind != models.MeetingVideo {
			t.Fatalf("without a phone: %d %s", w.Code, w.Body.String())
		}
		// Ana is taken now; only the host who phones is free at that time.
		w = e.bookWithoutPhone("bob@example.com", start)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"phone"`) {
			t.Fatalf("only a phoning host free, no phone: %d %s", w.Code, w.Body.String())
		}
	})
}

func TestMeeting_StaffAvailabilityPageEditsTheMeetingPlaceWithErrorsBesideFields(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		w := e.page(admin, http.MethodGet, "/admin/availability", nil)
		html := w.Body.String()
		if w.Code != 200 || !strings.Contains(html, `name="meeting_kind"`) || !strings.Contains(html, "meet.callbook.test") {
			t.Fatalf("availability page lacks the meeting place or the default: %d", w.Code)
		}
		form := availabilityForm(t, e, admin)
		form.Set("meeting_kind", "video")
		form.Set("meeting_url", "not a url")
		w = e.page(admin, http.MethodPost, "/admin/availability", form)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="meeting_url-error"`) ||
			!strings.Contains(w.Body.String(), `value="not a url"`) {
			t.Fatalf("bad URL: %d, want 422 with the error beside the URL field", w.Code)
		}
		form.Set("meeting_kind", "in_person")
		form.Set("meeting_address", "")
		w = e.page(admin, http.MethodPost, "/admin/availability", form)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="meeting_address-error"`) {
			t.Fatalf("no address: %d, want 422 with the error beside the address", w.Code)
		}
		form.Set("meeting_address", "1 Main Street")
		if w = e.page(admin, http.MethodPost, "/admin/availability", form); w.Code != http.StatusSeeOther {
			t.Fatalf("save: %d %s", w.Code, w.Body.String())
		}
		cfg := decode[struct{ Meeting meetingJSON }](t, e.api(admin, http.MethodGet, "/api/v1/admin/availability", ""))
		if cfg.Meeting != (meetingJSON{Kind: models.MeetingInPerson, Address: "1 Main Street"}) {
			t.Errorf("saved meeting %+v", cfg.Meeting)
		}
		if w := e.api(admin, http.MethodPut, "/api/v1/admin/availability", `{"duration_minutes":30,"horizon_days":30,"weekly":{},"meeting":{"kind":"teleport"}}`); w.Code != 422 ||
			!strings.Contains(w.Body.String(), `"meeting.kind"`) {
			t.Errorf("unknown kind over the API: %d %s", w.Code, w.Body.String())
		}
	})
}

// availabilityForm is the saved availability as the form posts it.
func availabilityForm(t *testing.T, e *testEnv, admin *staffer) url.Values {
	t.Helper()
	cfg := decode[models.AvailabilityConfig](t, e.api(admin, http.MethodGet, "/api/v1/admin/availability", ""))
	f := url.Values{"host_id": {itoa(int(cfg.HostID))}}
	for k, v := range map[string]int{"duration_minutes": cfg.DurationMinutes, "buffer_minutes": cfg.BufferMinutes,
		"min_notice_minutes": cfg.MinNoticeMinutes, "horizon_days": cfg.HorizonDays, "max_per_day": cfg.MaxPerDay} {
		f.Set(k, itoa(v))
	}
	for day, hours := range cfg.Weekly {
		for _, h := range hours {
			f.Add(day+"_start", h[0])
			f.Add(day+"_end", h[1])
		}
	}
	return f
}
