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

func TestTimeline_TellsEachEventAsASentence(t *testing.T) {
	ny := mustZone("America/New_York")
	call := uint(7)
	d := &models.LeadDetail{Lead: models.LeadRow{Lead: models.Lead{Name: "Ada"}},
		Bookings: []models.StaffBooking{{Booking: models.Booking{ID: call, StartAt: time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)}}}}
	staff := []models.User{{Name: "Sam", Email: "sam@example.com"}, {Name: "Alex", Email: "alex@example.com"}}
	tl := newTimeline(d, staff, ny, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	alex := "Alex <alex@example.com>"
	tests := []struct {
		typ, actor, data string
		booking          *uint
		want             string
	}{
		{"lead.created", "visitor", `{"target_title":"Backend Engineer","utm_source":"google"}`, nil,
			"Ada became a lead, aiming for Backend Engineer (came from google)"},
		{"booking.created", "visitor", `{"booking_id":7,"start":"2026-12-03T16:00:00Z","host":"Sam"}`, &call,
			"Ada booked a call for Thu 3 Dec, 11:00 with Sam"},
		{"lead.status_changed", alex, `{"from":"new","to":"contacted"}`, nil,
			"Alex changed the status from new to contacted"},
		{"lead.owner_changed", alex, `{"from":null,"to":4,"to_name":"Sam"}`, nil, "Alex made Sam the owner"},
		{"lead.owner_changed", alex, `{"from":4,"from_name":"Sam","to":5,"to_name":"Kim"}`, nil, "Alex changed the owner from Sam to Kim"},
		{"lead.owner_changed", alex, `{"from":4,"from_name":"Sam","to":null}`, nil, "Alex removed Sam as the owner"},
		{"lead.owner_changed", "system", `{"from":null,"to":4,"to_name":"Sam","reason":"first_call"}`, &call,
			"Sam became the owner as the host of the first call"},
		{"email.sent", "system", `{"kind":"confirmation","to":"ada@example.com","message_id":"<x@y>","attempts":1}`, &call,
			"Confirmation email sent to Ada"},
		{"email.sent", "system", `{"kind":"host-notice","to":"sam@example.com","message_id":"<x@y>"}`, &call,
			"Call notice sent to Sam"},
		{"email.failed", "system", `{"kind":"reminder-24h","to":"ada@example.com","error":"550 no such user"}`, &call,
			"Reminder (24h before) to Ada could not be delivered: 550 no such user"},
		{"booking.rescheduled", "visitor", `{"from":"2026-12-03T16:00:00Z","to":"2026-12-04T19:30:00Z","host":"Sam"}`, &call,
			"Ada moved the call on Thu 3 Dec, 11:00 to Fri 4 Dec, 14:30"},
		{"booking.canceled", alex, `{"start":"2026-12-03T16:00:00Z","reason":"Found a job"}`, &call,
			"Alex canceled the call on Thu 3 Dec, 11:00: “Found a job”"},
		{"booking.no_show", alex, `{"from":"confirmed","to":"no_show"}`, &call, "Alex marked the call on Thu 3 Dec, 11:00 as a no-show"},
		{"lead.recommended_title_changed", alex, `{"from":"","to":"Platform Engineer"}`, nil,
			"Alex set the recommended title to Platform Engineer"},
		{"lead.details_changed", "visitor", `{"name":{"from":"Ada","to":"Ada Lovelace"},"phone":{"from":"+1 555 0100","to":"+44 20 7946 0000"}}`, nil,
			"Ada booked again and changed their name from Ada to Ada Lovelace and phone from +1 555 0100 to +44 20 7946 0000"},
		{"note.added", alex, `{"note_id":3}`, nil, "Alex added a note"},
		{"booking.created", "visitor", `{"start":"2027-01-05T15:00:00Z","host":"Sam"}`, nil,
			"Ada booked a call for Tue 5 Jan 2027, 10:00 with Sam"},
	}
	for _, tt := range tests {
		evs := tl.views([]models.Event{{Type: tt.typ, Actor: tt.actor, Data: tt.data, BookingID: tt.booking}})
		if got := evs[0].Sentence; got != tt.want {
			t.Errorf("%s %s:\n got %q\nwant %q", tt.typ, tt.data, got, tt.want)
		}
		if strings.Contains(evs[0].Sentence, "<x@y>") || strings.Contains(evs[0].Sentence, "UTC") {
			t.Errorf("%s: a message id or UTC in %q", tt.typ, evs[0].Sentence)
		}
	}
}

func TestLeadPage_TimelineReadsAsSentencesAndEraseSitsInTheDangerZone(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("alex@example.com", models.RoleAdmin)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil)
		path := "/admin/leads/" + itoa(int(lead))
		form := url.Values{"status": {"contacted"}, "owner_id": {itoa(int(sales.User.ID))}, "recommended_title": {""}}
		if w := e.page(admin, http.MethodPost, path, form); w.Code != 303 {
			t.Fatalf("save: %d", w.Code)
		}
		body := e.page(admin, http.MethodGet, path, nil).Body.String()
		for _, want := range []string{
			"Times in America/New York.", "Ada Lovelace booked a call for ", " with Discovery team",
			"alex changed the status from new to contacted", "alex made sales the owner",
			"Ada Lovelace became a lead, aiming for Backend Engineer", `<details class="raw"><summary>Details</summary>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("lead page lacks %q", want)
			}
		}
		timeline := body[strings.Index(body, `id="timeline-h"`):]
		if strings.Contains(timeline, "UTC") || strings.Contains(timeline, "America/New_York") {
			t.Error("the timeline names UTC or an underscored zone")
		}
		head := body[:strings.Index(body, `class="lead-grid"`)]
		danger := strings.Index(body, "Danger zone")
		if strings.Contains(head, "/erase") || danger < strings.Index(body, `id="timeline-h"`) || !strings.Contains(body[danger:], `href="`+path+`/erase"`) {
			t.Error("the erase action is not in a danger zone at the end of the page")
		}
		if strings.Contains(e.page(sales, http.MethodGet, path, nil).Body.String(), path+"/erase") {
			t.Error("sales sees the erase action")
		}
	})
}
