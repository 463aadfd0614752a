package mailer_test

import (
	"strings"
	"testing"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
)

// A collective call's invite is one event (one UID) with every host an
// attendee, and every email names the kind of call and its length.
func TestInviteICS_CollectiveCallNamesEveryHostAndTheKind(t *testing.T) {
	r := mustRenderer(t)
	d := sampleMail(models.MailHostNotice)
	d.CallTitle = "Mock interview panel"
	d.Hosts = []models.MailHost{{Name: "Ana", Email: "ana@example.com"}, {Name: "Ben", Email: "ben@example.com"}}
	data, err := r.InviteICS(d, mailer.MethodRequest)
	if err != nil {
		t.Fatal(err)
	}
	lines := unfold(checkRFC5545Lines(t, data))
	var attendees []string
	uids := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "ATTENDEE") {
			attendees = append(attendees, l[strings.LastIndex(l, ":")+1:])
		}
		if strings.HasPrefix(l, "UID:") {
			uids++
		}
	}
	if uids != 1 || !strings.Contains(strings.Join(attendees, ","), "ana@example.com") ||
		!strings.Contains(strings.Join(attendees, ","), "ben@example.com") {
		t.Fatalf("%d UIDs, attendees %v", uids, attendees)
	}
	if s := property(lines, "SUMMARY"); !strings.Contains(s, "Mock interview panel") {
		t.Fatalf("summary %q", s)
	}
	out, err := r.Render(d, d.Start)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Subject+out.Text, "mock interview panel") || !strings.Contains(strings.ToLower(out.HTML), "mock interview panel") {
		t.Fatalf("the notice does not name the kind: %s\n%s", out.Subject, out.Text)
	}
}
