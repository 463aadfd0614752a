package mailer_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
)

// awkwardMail has text needing every RFC 5545 escape, and a long
// description and base URL that force folding.
func awkwardMail() models.MailData {
	d := sampleMail(models.MailConfirmation)
	d.Sequence = 2
	d.Name = "Lovelace, Ada; Countess: O'Brien \"AL\""
	d.TargetTitle = `Backend Engineer, Platform; Data \ Infra — Zürich`
	d.HostName = "Grace Hopper, Discovery team"
	return d
}

// checkRFC5545Lines checks the physical lines: CRLF endings only, none
// longer than 75 octets, continuation lines starting with one space.
func checkRFC5545Lines(t *testing.T, data []byte) []string {
	t.Helper()
	s := string(data)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatal("file does not end with CRLF")
	}
	if strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\r") {
		t.Fatal("a line ends with a bare LF or CR")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	for i, l := range lines {
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, l)
		}
	}
	return lines
}

// unfold joins continuation lines (RFC 5545 §3.1) into logical lines.
func unfold(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			out[len(out)-1] += l[1:]
			continue
		}
		out = append(out, l)
	}
	return out
}

// property returns the logical line of the first property called name.
func property(lines []string, name string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, name+":") || strings.HasPrefix(l, name+";") {
			return l
		}
	}
	return ""
}

func TestInviteICS_FollowsRFC5545(t *testing.T) {
	r := mustRenderer(t)
	d := awkwardMail()
	data, err := r.InviteICS(d, mailer.MethodRequest)
	if err != nil {
		t.Fatal(err)
	}
	raw := checkRFC5545Lines(t, data)
	if len(unfold(raw)) == len(raw) {
		t.Fatal("nothing was folded; the test data should force folding")
	}
	lines := unfold(raw)
	want := map[string]string{
		"METHOD":   "METHOD:REQUEST",
		"UID":      "UID:uid7@book.example.com",
		"SEQUENCE": "SEQUENCE:2",
		"DTSTAMP":  "DTSTAMP:20261130T120000Z",
		"DTSTART":  "DTSTART:20261201T140000Z",
		"DTEND":    "DTEND:20261201T143000Z",
		"STATUS":   "STATUS:CONFIRMED",
		"SUMMARY":  `SUMMARY:Discovery call with Callbook: Backend Engineer\, Platform\; Data \\ Infra — Zürich`,
	}
	for name, line := range want {
		if got := property(lines, name); got != line {
			t.Errorf("%s:\n got %q\nwant %q", name, got, line)
		}
	}
	desc := property(lines, "DESCRIPTION")
	for _, frag := range []string{`Grace Hopper\, Discovery team`, `\n\nReschedule or cancel: ` + testBase + "/bookings/tok-uid7"} {
		if !strings.Contains(desc, frag) {
			t.Errorf("DESCRIPTION %q lacks %q", desc, frag)
		}
	}
	// Names are quoted parameter values: commas, semicolons and colons
	// kept, a DQUOTE (which no quoting carries) as a single quote, and no
	// backslash escapes, which parameters do not have.
	if got := property(lines, "ORGANIZER"); got != `ORGANIZER;CN="Grace Hopper, Discovery team":mailto:team@callbook.test` {
		t.Errorf("ORGANIZER = %q", got)
	}
	if got := property(lines, "ATTENDEE"); got != `ATTENDEE;CN="Lovelace, Ada; Countess: O'Brien 'AL'";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:ada@example.com` {
		t.Errorf("ATTENDEE = %q", got)
	}
}

func TestInviteICS_ParsesBackWithTheSameEvent(t *testing.T) {
	r := mustRenderer(t)
	d := awkwardMail()
	data, err := r.InviteICS(d, mailer.MethodRequest)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	start, err1 := ev.GetStartAt()
	end, err2 := ev.GetEndAt()
	if err1 != nil || err2 != nil || !start.Equal(d.Start) || !end.Equal(d.End) {
		t.Errorf("event %v–%v (%v, %v), want %v–%v", start, end, err1, err2, d.Start, d.End)
	}
	if got := ev.GetProperty(ics.ComponentPropertySummary).Value; got != `Discovery call with Callbook: `+d.TargetTitle {
		t.Errorf("summary round trip = %q", got)
	}
}

func TestInviteICS_CancelKeepsTheUIDWithAHigherSequence(t *testing.T) {
	r := mustRenderer(t)
	d := sampleMail(models.MailCancellation)
	d.Sequence, d.Reason = 3, "Can't make it; sorry, really"
	data, err := r.InviteICS(d, mailer.MethodCancel)
	if err != nil {
		t.Fatal(err)
	}
	lines := unfold(checkRFC5545Lines(t, data))
	for _, want := range []string{"METHOD:CANCEL", "STATUS:CANCELLED", "SEQUENCE:3", "UID:uid7@book.example.com"} {
		if property(lines, strings.SplitN(want, ":", 2)[0]) != want {
			t.Errorf("missing %q in\n%s", want, data)
		}
	}
	if desc := property(lines, "DESCRIPTION"); !strings.Contains(desc, `Can't make it\; sorry\, really`) {
		t.Errorf("DESCRIPTION %q lacks the escaped reason", desc)
	}
	if _, err := r.InviteICS(d, "PUBLISH"); err == nil {
		t.Error("accepted method PUBLISH")
	}
}

func TestRender_InviteIsStampedWhenTheChangeHappened(t *testing.T) {
	r := mustRenderer(t)
	stamp := time.Date(2026, 11, 29, 8, 30, 0, 0, time.UTC)
	a, err := r.Render(sampleMail(models.MailReschedule), stamp)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Render(sampleMail(models.MailReschedule), stamp)
	if string(a.ICS) != string(b.ICS) || !strings.Contains(string(a.ICS), "DTSTAMP:20261129T083000Z\r\n") {
		t.Fatalf("rendering one row twice differs or is stamped wrong:\n%s", a.ICS)
	}
}
