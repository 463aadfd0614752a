package mailer_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

func TestDrain_LeadAssignedEmailReachesTheStaffHostOfTheFirstCall(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	ctx := context.Background()
	sam, err := s.CreateUser(ctx, models.NewUser{Email: "sam@example.com", Name: "Sam Host", Role: models.RoleSales, Host: true, Password: "a long passphrase for sam"})
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := s.Hosts(ctx)
	off := true
	for _, h := range hosts {
		if h.ID != sam.ID {
			if _, err := s.UpdateUser(ctx, h.ID, models.UserChange{Disabled: &off}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	res := mustBook(t, s, 1)[0]
	if res.Host.ID != sam.ID {
		t.Fatalf("call went to %s", res.Host.Name)
	}
	mustDrain(t, o)
	m := byKind(t, srv.Messages(), models.MailLeadAssigned, "sam@example.com")
	if got := m.Header.Get("X-Callbook-Booking"); got != strconv.Itoa(int(res.Booking.ID)) {
		t.Errorf("X-Callbook-Booking = %q", got)
	}
	if subj := m.Subject(t); subj != "Lead assigned to you: Visitor 0, Backend Engineer" {
		t.Errorf("subject %q", subj)
	}
	lead := "https://book.example.com/admin/leads/" + strconv.Itoa(int(res.Lead.ID))
	for _, media := range []string{"text/plain", "text/html"} {
		p, ok := m.Part(media)
		if !ok {
			t.Fatalf("no %s part", media)
		}
		for _, want := range []string{"Hello Sam Host,", "Visitor 0 booked a call with you, so the lead is yours.", lead,
			"visitor0@example.com", "Backend Engineer", "America/New York"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("%s part lacks %q:\n%s", media, want, p.Body)
			}
		}
	}
}
