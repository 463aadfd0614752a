package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// kindSlots lists the offered starts and the length /api/v1/slots gives
// for a query of the backend engineer role.
func (e *testEnv) kindSlots(query string) (starts []string, minutes int) {
	e.t.Helper()
	w := e.do(http.MethodGet, "/api/v1/slots?tz=America/New_York&role_slug=backend-engineer&answers.experience=1-2&"+query, nil)
	if w.Code != http.StatusOK {
		e.t.Fatalf("slots %s: %d %s", query, w.Code, w.Body.String())
	}
	s := decode[slotsJSON](e.t, w)
	for _, sl := range s.Slots {
		starts = append(starts, sl.Start)
		if a, b := mustTime(e.t.(*testing.T), sl.Start), mustTime(e.t.(*testing.T), sl.End); int(b.Sub(a).Minutes()) != s.DurationMinutes {
			e.t.Fatalf("slot %s–%s is not %d minutes", sl.Start, sl.End, s.DurationMinutes)
		}
	}
	return starts, s.DurationMinutes
}

func TestKindsAPI_TheRoleOffersItsPublicKindsAndEachHasItsOwnTimes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newInviteServer(t, dialect)
		w := e.do(http.MethodGet, "/api/v1/roles/backend-engineer", nil)
		role := decode[struct {
			Role struct {
				Calls []roleCallJSON `json:"calls"`
			} `json:"role"`
		}](t, w).Role
		if len(role.Calls) != 2 || role.Calls[0].ID != "intro" || role.Calls[0].Minutes != 20 || role.Calls[1].ID != "strategy" ||
			role.Calls[1].Minutes != 45 {
			t.Fatalf("calls %+v: want the intro call and the strategy session, not the follow-up", role.Calls)
		}
		intro, m1 := e.kindSlots("call=intro")
		strategy, m2 := e.kindSlots("call=strategy")
		first, m0 := e.kindSlots("")
		if m1 != 20 || m2 != 45 || m0 != 20 || len(first) != len(intro) {
			t.Fatalf("lengths intro %d strategy %d default %d", m1, m2, m0)
		}
		if strings.Join(intro, ",") == strings.Join(strategy, ",") {
			t.Fatal("the intro call and the strategy session offer the same times")
		}
		// A visitor cannot ask for a length or a kind the role does not offer.
		if _, m := e.kindSlots("call=intro&duration=120&duration_minutes=120"); m != 20 {
			t.Fatalf("a duration parameter changed the length to %d", m)
		}
		for _, call := range []string{"follow-up", "panel", "discovery"} {
			w := e.do(http.MethodGet, "/api/v1/slots?role_slug=backend-engineer&call="+call, nil)
			if w.Code != http.StatusUnprocessableEntity || decode[errorJSON](t, w).Error.Fields["call"] == "" {
				t.Fatalf("slots for call %s: %d %s, want 422 fields.call", call, w.Code, w.Body.String())
			}
			body := bookingBody("x@example.com", strategy[0])
			body["call"] = call
			if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusUnprocessableEntity ||
				decode[errorJSON](t, w).Error.Fields["call"] == "" {
				t.Fatalf("booking call %s: %d %s, want 422 fields.call", call, w.Code, w.Body.String())
			}
		}
		body := bookingBody("ada@example.com", strategy[0])
		body["call"] = "strategy"
		w = e.postJSON("/api/v1/bookings", body)
		if w.Code != http.StatusCreated {
			t.Fatalf("book the strategy session: %d %s", w.Code, w.Body.String())
		}
		b := decode[bookingResponse](t, w).Booking
		if b.Call.ID != "strategy" || b.Call.Minutes != 45 || mustTime(t, b.End).Sub(mustTime(t, b.Start)) != 45*time.Minute ||
			len(b.Hosts) != 1 {
			t.Fatalf("booking %+v: want a 45-minute strategy session with its host", b)
		}
		// Every email and the invite name the kind and its length.
		d := e.outboxPayload(b.ID, models.MailConfirmation)
		if d.CallTitle != "Strategy session" {
			t.Fatalf("confirmation's call %q", d.CallTitle)
		}
		r, err := e.srv.mail.(*mailer.Renderer).Render(d, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{r.Subject, r.Text, r.HTML, string(r.ICS)} {
			if !strings.Contains(strings.ToLower(part), "strategy session") {
				t.Fatalf("an email part does not name the strategy session: %.300s", part)
			}
		}
		if !strings.Contains(r.Text, "45 minutes") {
			t.Fatalf("the confirmation does not give the length: %s", r.Text)
		}
	})
}

func TestBookPage_AsksTheKindFirstAndFillsTheFormFromTheLink(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		w := e.do(http.MethodGet, "/roles/backend-engineer/book", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `name="call" value="intro"`) ||
			!strings.Contains(w.Body.String(), `name="call" value="strategy"`) || strings.Contains(w.Body.String(), `value="follow-up"`) {
			t.Fatalf("the first step does not ask for the kind of call: %d", w.Code)
		}
		q := url.Values{"step": {"times"}, "answers.experience": {"1-2"}, "call": {"strategy"}, "name": {"Ada Lovelace"},
			"email": {"ada@example.com"}, "current_title": {"Data Analyst"}, "tz": {"America/New_York"}}
		w = e.do(http.MethodGet, "/roles/backend-engineer/book?"+q.Encode(), nil)
		page := w.Body.String()
		for _, want := range []string{`value="Ada Lovelace"`, `value="ada@example.com"`, `value="Data Analyst"`,
			`data-call-kind="strategy"`, "45 minutes", `<input type="hidden" name="call" value="strategy">`} {
			if !strings.Contains(page, want) {
				t.Fatalf("the times step lacks %s", want)
			}
		}
		var n int64
		e.store.DB().Model(&models.Lead{}).Count(&n)
		if n != 0 {
			t.Fatal("a prefilled page booked something by itself")
		}
		// A role page without questions but with two kinds asks on a step
		// of its own, without JavaScript.
		w = e.do(http.MethodGet, "/roles/backend-engineer/book?call=panel", nil)
		if w.Code != http.StatusUnprocessableEntity {
			t.Fatalf("an unknown kind: %d", w.Code)
		}
	})
}

func TestReassign_GivesTheCallToAnotherHostWithItsEmails(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		_, id := e.mustBookLead("ada@example.com", 0, nil)
		before := e.mustBooking(id)
		ben, err := e.store.CreateUser(context.Background(), models.NewUser{Email: "ben@example.com", Name: "Ben",
			Role: models.RoleSales, Host: true, Password: "a long test password 1"})
		if err != nil {
			t.Fatal(err)
		}
		w := e.api(sales, http.MethodPost, fmt.Sprintf("/api/v1/admin/bookings/%d/host", id), fmt.Sprintf(`{"host_id":%d}`, ben.ID))
		if w.Code != http.StatusOK {
			t.Fatalf("reassign: %d %s", w.Code, w.Body.String())
		}
		if b := decode[bookingResponse](t, w).Booking; b.Host.Name != "Ben" || b.Start == "" {
			t.Fatalf("answer %+v", b)
		}
		after := e.mustBooking(id)
		if after.HostID != ben.ID || !after.StartAt.Equal(before.StartAt) || after.Sequence <= before.Sequence {
			t.Fatalf("booking after: host %d start %v sequence %d", after.HostID, after.StartAt, after.Sequence)
		}
		if d := e.outboxPayload(id, models.MailHostChanged); d.HostName != "Ben" {
			t.Fatalf("host-changed email names %q", d.HostName)
		}
		var notices []models.OutboxMessage
		e.store.DB().Where("booking_id = ? AND kind = ?", id, models.MailHostNotice).Order("id").Find(&notices)
		changes := map[string]string{}
		for _, n := range notices {
			var d models.MailData
			_ = jsonUnmarshal(n.Payload, &d)
			changes[n.ToAddr+"/"+d.Change] = d.Change
		}
		if changes["ben@example.com/booked"] == "" || len(notices) < 3 {
			t.Fatalf("host notices %v: want a REQUEST to Ben and a CANCEL to the old host", changes)
		}
		// Back to a host who is busy then: 409.
		_, other := e.mustBookLead("bob@example.com", 0, nil) // the team host takes this time again
		if ob := e.mustBooking(other); !ob.StartAt.Equal(before.StartAt) || ob.HostID != before.HostID {
			t.Fatalf("setup: the second call is at %v with host %d", ob.StartAt, ob.HostID)
		}
		w = e.api(sales, http.MethodPost, fmt.Sprintf("/api/v1/admin/bookings/%d/host", id), fmt.Sprintf(`{"host_id":%d}`, before.HostID))
		if w.Code != http.StatusConflict || decode[errorJSON](t, w).Error.Code != "slot_unavailable" {
			t.Fatalf("reassign to a busy host: %d %s", w.Code, w.Body.String())
		}
	})
}

func TestReschedule_KeepsTheHostWhenTheHostIsFree(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		if _, err := e.store.CreateUser(context.Background(), models.NewUser{Email: "ben@example.com", Name: "Ben",
			Role: models.RoleSales, Host: true, Password: "a long test password 1"}); err != nil {
			t.Fatal(err)
		}
		slots := e.firstSlots(6, "Europe/Berlin")
		token, id := e.mustBookAPI("ada@example.com", slots[0])
		host := e.mustBooking(id).HostID
		// The other host has fewer calls, so a new pick would choose them.
		w := e.postJSON("/api/v1/bookings/"+token+"/reschedule", map[string]string{"start": slots[5]})
		if w.Code != http.StatusOK {
			t.Fatalf("reschedule: %d %s", w.Code, w.Body.String())
		}
		if got := e.mustBooking(id).HostID; got != host {
			t.Fatalf("the call moved from host %d to %d though %d was free", host, got, host)
		}
	})
}

func TestPrivateLink_BooksItsKindOnceFilledInAndThenAnswers410(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil)
		w := e.api(sales, http.MethodPost, "/api/v1/admin/links",
			fmt.Sprintf(`{"role_slug":"backend-engineer","call":"follow-up","lead_id":%d}`, lead))
		if w.Code != http.StatusCreated {
			t.Fatalf("make a link: %d %s", w.Code, w.Body.String())
		}
		link := decode[struct {
			Link linkJSON `json:"link"`
		}](t, w).Link
		token := path.Base(link.URL)
		if link.UsesLeft != 1 || !strings.HasPrefix(link.URL, "http://callbook.test/l/") || len(token) < 32 {
			t.Fatalf("link %+v", link)
		}
		// The link opens the follow-up's booking page with Ada's details.
		w = e.do(http.MethodGet, "/l/"+token, nil)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("open the link: %d", w.Code)
		}
		w = e.do(http.MethodGet, w.Header().Get("Location"), nil)
		page := w.Body.String()
		if w.Code != 200 || !strings.Contains(page, `value="Ada Lovelace"`) || !strings.Contains(page, "Follow-up session") {
			t.Fatalf("the link's page: %d, filled in and the follow-up: %v %v", w.Code,
				strings.Contains(page, `value="Ada Lovelace"`), strings.Contains(page, "Follow-up session"))
		}
		w = e.do(http.MethodGet, "/api/v1/slots?tz=Europe/Berlin&link="+token, nil)
		slots := decode[slotsJSON](t, w)
		if w.Code != 200 || slots.DurationMinutes != 30 || len(slots.Slots) < 2 {
			t.Fatalf("the link's slots: %d %s", w.Code, w.Body.String())
		}
		// Two bookings race on the one-use link: one call.
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := bookingBody(fmt.Sprintf("ada+%d@example.com", i), slots.Slots[i].Start)
				body["link"] = token
				w := e.postJSON("/api/v1/bookings", body)
				codes[i] = w.Code
				if w.Code == http.StatusGone && decode[errorJSON](t, w).Error.Code != "link_used" {
					t.Errorf("the losing booking: %s", w.Body.String())
				}
			}()
		}
		wg.Wait()
		if codes[0]+codes[1] != http.StatusCreated+http.StatusGone {
			t.Fatalf("two bookings on a one-use link answered %v, want one 201 and one 410", codes)
		}
		var booked []models.Booking
		e.store.DB().Where("call_id = ?", "follow-up").Find(&booked)
		if len(booked) != 1 || booked[0].LinkID == nil || *booked[0].LinkID != link.ID {
			t.Fatalf("follow-ups booked: %+v", booked)
		}
		// Used up: the link's page says so and leads back to the role.
		w = e.do(http.MethodGet, "/l/"+token, nil)
		if w.Code != http.StatusGone || !strings.Contains(w.Body.String(), "can no longer be used") ||
			!strings.Contains(w.Body.String(), `href="/roles/backend-engineer"`) {
			t.Fatalf("a used link: %d %.200s", w.Code, w.Body.String())
		}
		// The follow-up is not public without a link.
		w = e.do(http.MethodGet, "/api/v1/slots?role_slug=backend-engineer&call=follow-up", nil)
		if w.Code != http.StatusUnprocessableEntity {
			t.Fatalf("follow-up slots without a link: %d", w.Code)
		}
		// A withdrawn link answers 410 too.
		w = e.api(sales, http.MethodPost, "/api/v1/admin/links", `{"role_slug":"backend-engineer","call":"strategy"}`)
		l2 := decode[struct {
			Link linkJSON `json:"link"`
		}](t, w).Link
		if w := e.api(sales, http.MethodDelete, fmt.Sprintf("/api/v1/admin/links/%d", l2.ID), ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d", w.Code)
		}
		if w := e.do(http.MethodGet, "/l/"+path.Base(l2.URL), nil); w.Code != http.StatusGone {
			t.Fatalf("a withdrawn link: %d", w.Code)
		}
		var audited []models.AuditEntry
		e.store.DB().Where("action LIKE ?", "link.%").Order("id").Find(&audited)
		if len(audited) != 3 || audited[0].Action != models.AuditLinkCreated || audited[2].Action != models.AuditLinkDeleted ||
			audited[0].ActorID == nil || *audited[0].ActorID != sales.User.ID {
			t.Fatalf("audit entries of links: %+v", audited)
		}
	})
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func TestKinds_DashboardAndExportShowTheKind(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		e.mustBookLead("ada@example.com", 0, func(b map[string]any) {
			b["call"] = "strategy"
			starts, _ := e.kindSlots("call=strategy")
			b["start"] = starts[0]
		})
		e.mustBookLead("bob@example.com", 0, func(b map[string]any) { b["call"] = "intro" })
		w := e.page(admin, http.MethodGet, "/admin?days=7", nil)
		page := w.Body.String()
		for _, want := range []string{`<tr data-kind="strategy"><th scope="row">Strategy session</th><td class="num">1</td>`,
			`<tr data-kind="intro"><th scope="row">Intro call</th><td class="num">1</td>`} {
			if !strings.Contains(page, want) {
				t.Fatalf("the dashboard lacks %s", want)
			}
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/leads/export.csv", "")
		lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
		if !strings.Contains(lines[0], ",call,") || !strings.HasSuffix(lines[0], ",answers") || !strings.Contains(w.Body.String(), ",strategy,") ||
			!strings.Contains(w.Body.String(), ",intro,") {
			t.Fatalf("export: %s", w.Body.String())
		}
	})
}

// panelContent is a role whose mock interview panel has two coaches.
const panelRole = `title: Data Engineer
calls:
  - {id: intro, title: Intro call, minutes: 30}
  - {id: panel, title: Mock interview panel, minutes: 60, mode: collective, hosts: ["ana@example.com", "ben@example.com"]}
`

func TestCollectiveCall_ThroughTheAPIHasEveryHost(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		content, err := LoadContent(fstest.MapFS{"data-engineer.yaml": {Data: []byte(panelRole)}})
		if err != nil {
			t.Fatal(err)
		}
		e := newTestServer(t, dialect, func(o *Options) { o.Content = content })
		ctx := context.Background()
		var ids []uint
		for _, n := range []string{"ana", "ben"} {
			u, err := e.store.CreateUser(ctx, models.NewUser{Email: n + "@example.com", Name: n, Role: models.RoleSales,
				Host: true, Password: "a long test password 1"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		// Ben is away on Tuesday: no panel then, though Ana is free.
		cfg, _ := e.store.Availability(ctx, ids[1])
		cfg.Overrides = []models.OverrideJSON{{Date: "2026-12-01", Hours: models.HoursJSON{}}}
		if _, err := e.store.SetAvailability(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		w := e.do(http.MethodGet, "/api/v1/slots?tz=America/New_York&role_slug=data-engineer&call=panel", nil)
		s := decode[slotsJSON](t, w)
		if s.DurationMinutes != 60 || len(s.Slots) == 0 {
			t.Fatalf("panel slots: %s", w.Body.String())
		}
		for _, sl := range s.Slots {
			if strings.HasPrefix(sl.Start, "2026-12-01") {
				t.Fatalf("a panel offered on Tuesday while Ben is away: %s", sl.Start)
			}
		}
		body := bookingBody("ada@example.com", s.Slots[0].Start)
		body["role_slug"], body["call"] = "data-engineer", "panel"
		delete(body, "answers")
		w = e.postJSON("/api/v1/bookings", body)
		if w.Code != http.StatusCreated {
			t.Fatalf("book the panel: %d %s", w.Code, w.Body.String())
		}
		b := decode[bookingResponse](t, w).Booking
		if len(b.Hosts) != 2 || b.Hosts[0].Name != "ana" || b.Hosts[1].Name != "ben" || b.Call.ID != "panel" {
			t.Fatalf("panel booking hosts %+v call %+v", b.Hosts, b.Call)
		}
		var to []string
		e.store.DB().Model(&models.OutboxMessage{}).Where("booking_id = ? AND kind = ?", b.ID, models.MailHostNotice).
			Order("to_addr").Pluck("to_addr", &to)
		if strings.Join(to, ",") != "ana@example.com,ben@example.com" {
			t.Fatalf("host notices went to %v", to)
		}
	})
}

// "Send a booking link" with "Email it" ticked writes the link's email to
// the lead, in their language and naming the kind of call as their
// language's page does; unticked, it only shows the link.
func TestSendLink_EmailsTheLeadInTheirLanguage(t *testing.T) {
	e := newTestServer(t, "sqlite")
	sales := e.mustStaff("sam@example.com", models.RoleSales)
	lead, _ := e.mustBookLead("ada@example.com", 0, func(b map[string]any) { b["language"] = "de" })
	path := "/admin/leads/" + itoa(int(lead)) + "/links"
	links := func() []models.OutboxMessage {
		var rows []models.OutboxMessage
		e.store.DB().Where("lead_id = ? AND kind = ?", lead, models.MailBookingLink).Find(&rows)
		return rows
	}

	w := e.page(sales, http.MethodPost, path, url.Values{"call": {"follow-up"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Send this link to the lead") || len(links()) != 0 {
		t.Fatalf("without email: %d, %d emails", w.Code, len(links()))
	}
	w = e.page(sales, http.MethodPost, path, url.Values{"call": {"follow-up"}, "email": {"yes"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Emailed to ada@example.com") {
		t.Fatalf("with email: %d", w.Code)
	}
	rows := links()
	if len(rows) != 1 || rows[0].ToAddr != "ada@example.com" {
		t.Fatalf("booking-link emails %+v", rows)
	}
	var d models.MailData
	if err := json.Unmarshal([]byte(rows[0].Payload), &d); err != nil {
		t.Fatal(err)
	}
	if d.Language != "de" || d.CallTitle != "Folgegespräch" || d.HostName != "sam" || d.RebookToken == "" {
		t.Fatalf("the email's data %+v", d)
	}
	if !strings.Contains(w.Body.String(), "/l/"+d.RebookToken) {
		t.Fatal("the page shows another link than the email's")
	}
	link, err := e.store.OpenBookingLink(context.Background(), d.RebookToken)
	if err != nil || link.CallID != "follow-up" || link.LeadID == nil || *link.LeadID != lead || link.UsesLeft != 1 {
		t.Fatalf("the emailed link %+v %v", link, err)
	}
}
