package mailer_test

import (
	"context"
	"html"
	"strings"
	"testing"

	ics "github.com/arran4/golang-ical"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestRender_MeetingPlaceInEveryEmailKind(t *testing.T) {
	r := mustRenderer(t)
	room := "https://meet.jit.si/acme-uid7"
	places := []struct {
		name     string
		meeting  models.Meeting
		visitor  string // what the visitor's emails say
		host     string // what the host notice says
		location string // the invite's LOCATION
	}{
		{"video", models.Meeting{Kind: models.MeetingVideo, URL: room}, room, room, room},
		{"phone", models.Meeting{Kind: models.MeetingPhone},
			"Phone: Discovery team calls you on +1 555 0100", "Phone: call Ada Lovelace on +1 555 0100", "Phone call to +1 555 0100"},
		{"in person", models.Meeting{Kind: models.MeetingInPerson, Address: "12 Harbour Street, Boston"},
			"In person: 12 Harbour Street, Boston", "In person: 12 Harbour Street, Boston", "12 Harbour Street, Boston"},
	}
	kinds := []struct{ kind, change string }{
		{models.MailConfirmation, ""}, {models.MailReschedule, ""}, {models.MailCancellation, ""},
		{"reminder-24h", ""}, {"reminder-1h", ""},
		{models.MailHostNotice, "booked"}, {models.MailHostNotice, "rescheduled"}, {models.MailHostNotice, "canceled"},
	}
	for _, p := range places {
		for _, k := range kinds {
			t.Run(p.name+"/"+k.kind+k.change, func(t *testing.T) {
				d := sampleMail(k.kind)
				d.Change, d.Meeting = k.change, &p.meeting
				out := mustRender(t, r, d)
				want := p.visitor
				if k.kind == models.MailHostNotice {
					want = p.host
				}
				if !strings.Contains(out.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, out.Text)
				}
				if !strings.Contains(html.UnescapeString(out.HTML), want) {
					t.Errorf("HTML lacks %q:\n%s", want, out.HTML)
				}
				if p.meeting.Kind == models.MeetingVideo && !strings.Contains(out.HTML, `href="`+room+`"`) {
					t.Errorf("HTML does not link the room")
				}
				if out.ICS == nil {
					if !strings.HasPrefix(k.kind, models.MailReminderPrefix) {
						t.Fatalf("%s carries no invite", k.kind)
					}
					return
				}
				ev := parseInvite(t, out.ICS)
				if got := prop(ev, ics.ComponentPropertyLocation); got != p.location {
					t.Errorf("LOCATION %q, want %q", got, p.location)
				}
				if got := prop(ev, ics.ComponentPropertyUrl); (p.meeting.Kind == models.MeetingVideo) != (got == room) {
					t.Errorf("URL %q for a %s call", got, p.name)
				}
			})
		}
	}
}

func parseInvite(t testing.TB, raw []byte) *ics.VEvent {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(string(raw)))
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("invite does not parse (%v):\n%s", err, raw)
	}
	return cal.Events()[0]
}

func prop(ev *ics.VEvent, p ics.ComponentProperty) string {
	if v := ev.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

// allByKind lists the received messages of kind sent to addr, in order.
func allByKind(t testing.TB, msgs []received, kind, addr string) []parsedMail {
	t.Helper()
	var out []parsedMail
	for _, m := range msgs {
		pm := parseMail(t, m.Data)
		if pm.Header.Get("X-Callbook-Kind") == kind && len(m.To) == 1 && m.To[0] == addr {
			out = append(out, pm)
		}
	}
	return out
}

func TestDrain_HostInviteFollowsTheCallThroughRescheduleAndCancel(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openStore(t, dialect)
		srv := startSMTP(t, smtpBehaviour{})
		o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
		ctx := context.Background()
		res := mustBook(t, s, 1)[0]
		mustDrain(t, o)
		to := freeSlots(t, s, 5)[4].Start
		if _, err := s.RescheduleBookingByID(ctx, res.Booking.ID, to, ""); err != nil {
			t.Fatal(err)
		}
		mustDrain(t, o)
		if _, err := s.CancelBookingByID(ctx, res.Booking.ID, "", ""); err != nil {
			t.Fatal(err)
		}
		mustDrain(t, o)

		msgs := srv.Messages()
		notices := allByKind(t, msgs, models.MailHostNotice, storetest.TeamEmail)
		if len(notices) != 3 {
			t.Fatalf("%d host notices, want booked, moved and canceled", len(notices))
		}
		room := "https://meet.callbook.test/call-" + res.Booking.UID
		wantUID := res.Booking.UID + "@book.example.com"
		for i, n := range notices {
			inv, ok := n.Part("text/calendar")
			if !ok {
				t.Fatalf("notice %d carries no invite", i)
			}
			cal, err := ics.ParseCalendar(strings.NewReader(inv.Body))
			if err != nil || len(cal.Events()) != 1 {
				t.Fatalf("notice %d invite does not parse: %v", i, err)
			}
			method := mailerMethod(cal)
			ev := cal.Events()[0]
			wantMethod := map[int]string{0: "REQUEST", 1: "REQUEST", 2: "CANCEL"}[i]
			if method != wantMethod || !strings.EqualFold(inv.Params["method"], wantMethod) {
				t.Errorf("notice %d: METHOD %q (part %q), want %s", i, method, inv.Params["method"], wantMethod)
			}
			if ev.Id() != wantUID {
				t.Errorf("notice %d: UID %q, want %q", i, ev.Id(), wantUID)
			}
			if seq := prop(ev, ics.ComponentPropertySequence); seq != string(rune('0'+i)) {
				t.Errorf("notice %d: SEQUENCE %s, want %d", i, seq, i)
			}
			if org := ev.GetProperty(ics.ComponentPropertyOrganizer); org == nil || !strings.EqualFold(org.Value, "mailto:"+storetest.TeamEmail) {
				t.Errorf("notice %d: ORGANIZER %v, want the host", i, org)
			}
			if att := ev.Attendees(); len(att) != 1 || att[0].Email() != "visitor0@example.com" {
				t.Errorf("notice %d: ATTENDEE %v, want the visitor", i, att)
			}
			if loc := prop(ev, ics.ComponentPropertyLocation); loc != room {
				t.Errorf("notice %d: LOCATION %q, want the room %q", i, loc, room)
			}
			text, _ := n.Part("text/plain")
			if !strings.Contains(text.Body, room) {
				t.Errorf("notice %d text lacks the room", i)
			}
		}
		for _, kind := range []string{models.MailConfirmation, models.MailReschedule, models.MailCancellation} {
			got := allByKind(t, msgs, kind, "visitor0@example.com")
			if len(got) != 1 {
				t.Fatalf("%d %s emails", len(got), kind)
			}
			if rt := got[0].Header.Get("Reply-To"); !strings.Contains(rt, storetest.TeamEmail) {
				t.Errorf("%s Reply-To %q, want the host", kind, rt)
			}
			text, _ := got[0].Part("text/plain")
			if !strings.Contains(text.Body, room) {
				t.Errorf("%s lacks the room", kind)
			}
		}
	})
}

// mailerMethod is a calendar's METHOD.
func mailerMethod(cal *ics.Calendar) string {
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == string(ics.PropertyMethod) {
			return p.Value
		}
	}
	return ""
}

func TestDrain_FreshInstallSendsTheTeamHostsNoticesToTheAdmins(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		clock := storetest.NewClock(t0)
		opts := storetest.Options(clock)
		opts.MeetingURL = "" // a fresh install: the team host phones
		s, err := store.Open(storetest.URL(t, dialect), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureDefaultHost(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.AdminExists(ctx); ok {
			t.Fatal("a fresh install has an admin")
		}
		users := map[string]*models.User{}
		for email, role := range map[string]string{"boss@example.com": models.RoleAdmin, "ops@example.com": models.RoleAdmin,
			"gone@example.com": models.RoleAdmin, "sam@example.com": models.RoleSales} {
			u, err := s.CreateUser(ctx, models.NewUser{Email: email, Name: "Staff " + email, Role: role,
				Password: "violet harbour tram 81"})
			if err != nil {
				t.Fatal(err)
			}
			users[email] = u
		}
		// Only active admins stand in for the team host: not one who was
		// disabled, and not sales.
		disabled := true
		if _, err := s.UpdateUser(ctx, users["gone@example.com"].ID, models.UserChange{Disabled: &disabled}, users["boss@example.com"]); err != nil {
			t.Fatal(err)
		}
		srv := startSMTP(t, smtpBehaviour{})
		o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
		mustBook(t, s, 1)
		mustDrain(t, o)
		msgs := srv.Messages()
		for _, admin := range []string{"boss@example.com", "ops@example.com"} {
			n := allByKind(t, msgs, models.MailHostNotice, admin)
			if len(n) != 1 {
				t.Fatalf("%d host notices to %s, want 1", len(n), admin)
			}
			text, _ := n[0].Part("text/plain")
			if !strings.Contains(text.Body, "Phone: call Visitor 0 on +1 555 0100") {
				t.Errorf("notice lacks whom to phone:\n%s", text.Body)
			}
		}
		for _, m := range msgs {
			if len(m.To) != 1 || m.To[0] == "no-reply@callbook.test" || m.To[0] == "gone@example.com" || m.To[0] == "sam@example.com" {
				t.Errorf("an email went to %v", m.To)
			}
		}
		conf := byKind(t, msgs, models.MailConfirmation, "visitor0@example.com")
		if rt := conf.Header.Get("Reply-To"); !strings.Contains(rt, "boss@example.com") || !strings.Contains(rt, "ops@example.com") ||
			strings.Contains(rt, "gone@example.com") || strings.Contains(rt, "sam@example.com") {
			t.Errorf("confirmation Reply-To %q, want the active admins only", rt)
		}
		inv, _ := conf.Part("text/calendar")
		if ev := parseInvite(t, []byte(inv.Body)); prop(ev, ics.ComponentPropertyLocation) != "Phone call to +1 555 0100" {
			t.Errorf("invite LOCATION %q", prop(ev, ics.ComponentPropertyLocation))
		}
	})
}
