package mailer_test

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	goical "github.com/emersion/go-ical"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
)

// TestInviteICS_NamesReadBackInOtherParsers: a name with quotes, commas,
// semicolons and colons is one quoted CN that two independent parsers
// read back whole, a DQUOTE turned into a single quote.
func TestInviteICS_NamesReadBackInOtherParsers(t *testing.T) {
	r := mustRenderer(t)
	cases := []struct{ name, cn string }{
		{`Robert "Bob" Jr., Smith`, `Robert 'Bob' Jr., Smith`},
		{"Lovelace, Ada; Countess: O'Brien", "Lovelace, Ada; Countess: O'Brien"},
		{"Zoë\tvan  der\nBerg", "Zoë van der Berg"},
		{"Ana", "Ana"},
		{strings.Repeat("Ng, Wei-Ling; ", 8), strings.TrimSpace(strings.Repeat("Ng, Wei-Ling; ", 8))},
	}
	for _, c := range cases {
		d := sampleMail(models.MailConfirmation)
		d.Name = c.name
		data, err := r.InviteICS(d, mailer.MethodRequest)
		if err != nil {
			t.Fatal(err)
		}
		checkRFC5545Lines(t, data)

		cal, err := goical.NewDecoder(strings.NewReader(string(data))).Decode()
		if err != nil {
			t.Fatalf("%q: go-ical: %v", c.name, err)
		}
		att := cal.Events()[0].Props.Get(goical.PropAttendee)
		if att == nil || att.Params.Get(goical.ParamCommonName) != c.cn || att.Value != "mailto:"+d.Email ||
			att.Params.Get(goical.ParamRole) != "REQ-PARTICIPANT" {
			t.Errorf("%q: go-ical reads ATTENDEE %+v, want CN %q", c.name, att, c.cn)
		}

		parsed, err := ics.ParseCalendar(strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("%q: golang-ical: %v", c.name, err)
		}
		atts := parsed.Events()[0].Attendees()
		if len(atts) != 1 || atts[0].ICalParameters["CN"][0] != c.cn || atts[0].Email() != d.Email {
			t.Errorf("%q: golang-ical reads %+v, want CN %q", c.name, atts, c.cn)
		}
	}
}

// TestHostFeedICS_RefreshIntervalHasOneValueType: REFRESH-INTERVAL
// (RFC 7986) carries VALUE=DURATION once.
func TestHostFeedICS_RefreshIntervalHasOneValueType(t *testing.T) {
	r := mustRenderer(t)
	start := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	data, err := r.HostFeedICS(&models.User{Name: "Grace Hopper"}, []models.FeedCall{{
		Booking: models.Booking{UID: "uid1", StartAt: start, EndAt: start.Add(30 * time.Minute), TargetTitle: "Backend Engineer"},
		LeadID:  7, Name: "Ada Lovelace",
	}})
	if err != nil {
		t.Fatal(err)
	}
	lines := unfold(checkRFC5545Lines(t, data))
	if got := property(lines, "REFRESH-INTERVAL"); got != "REFRESH-INTERVAL;VALUE=DURATION:PT15M" {
		t.Fatalf("REFRESH-INTERVAL line %q", got)
	}
	cal, err := goical.NewDecoder(strings.NewReader(string(data))).Decode()
	if err != nil {
		t.Fatal(err)
	}
	if p := cal.Props.Get("REFRESH-INTERVAL"); p == nil || p.Params.Get("VALUE") != "DURATION" || len(p.Params["VALUE"]) != 1 || p.Value != "PT15M" {
		t.Fatalf("REFRESH-INTERVAL read back as %+v", p)
	}
}
