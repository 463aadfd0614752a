package mailer_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

var testFollowups = map[string][]models.Followup{"backend-engineer": {
	{ID: "rebook", When: models.FollowupNoShow, After: 30 * time.Minute, Subject: "Sorry we missed you, {first_name}",
		Body: "Hello {first_name},\n\nPick another time: {rebook_url}\n\nOr stop these emails: {unsubscribe_url}", RoleTitle: "Backend Engineer"},
}}

// A rebook email that falls due while the SMTP server is down and the
// service restarts arrives once the server is back: late, once, with the
// one-click unsubscribe headers the call's own emails never carry.
func TestFollowup_SurvivesAnOutageAndARestartAndCarriesUnsubscribeHeaders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := storetest.URL(t, dialect)
		clock := storetest.NewClock(t0)
		s := storetest.MustOpenURL(t, url, storetest.Options(clock))
		s.SetFollowups(testFollowups)
		addr, port := freeAddr(t)
		smtpURL := "smtp://127.0.0.1:" + strconv.Itoa(port)
		down := mustOutbox(t, s, clock, smtpURL, nil)

		res := mustBook(t, s, 1)[0]
		clock.Set(res.Booking.StartAt.Add(20 * time.Minute))
		if _, err := s.SetOutcome(ctx, res.Booking.ID, models.OutcomeNoShow, &models.User{ID: 1, Name: "Sam", Email: "sam@callbook.test"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(3 * time.Hour) // well past due, the server still down
		if n, _ := down.Drain(ctx); n != 0 {
			t.Fatalf("sent %d with no server", n)
		}
		s.Close() // the service stops

		s = storetest.MustOpenURL(t, url, storetest.Options(clock))
		s.SetFollowups(testFollowups)
		var row models.OutboxMessage
		if err := s.DB().Where("kind = ?", "followup-rebook").Take(&row).Error; err != nil || row.Status != models.OutboxPending {
			t.Fatalf("after the restart the follow-up is %s (%v), want pending", row.Status, err)
		}
		srv := startSMTP(t, smtpBehaviour{Addr: addr})
		up := mustOutbox(t, s, clock, smtpURL, nil)
		mustDrain(t, up)
		mustDrain(t, up)

		sent := 0
		for _, m := range srv.Messages() {
			if parseMail(t, m.Data).Header.Get("X-Callbook-Kind") == "followup-rebook" {
				sent++
			}
		}
		if sent != 1 {
			t.Fatalf("the follow-up arrived %d times, want once", sent)
		}
		fu := byKind(t, srv.Messages(), "followup-rebook", res.Lead.Email)
		var l models.Lead
		s.DB().Where("id = ?", res.Lead.ID).Take(&l)
		wantLink := "<https://book.example.com/u/" + *l.UnsubscribeToken + ">"
		if got := fu.Header.Get("List-Unsubscribe"); got != wantLink {
			t.Errorf("List-Unsubscribe = %q, want %q", got, wantLink)
		}
		if got := fu.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post = %q", got)
		}
		if got := fu.Subject(t); got != "Sorry we missed you, Visitor" {
			t.Errorf("subject %q", got)
		}
		text, _ := fu.Part("text/plain")
		if strings.Contains(text.Body, "{") {
			t.Errorf("text part:\n%s", text.Body)
		}
		link := mustRebookLink(t, s, text.Body, res.Lead.ID)
		html, _ := fu.Part("text/html")
		if !strings.Contains(html.Body, `<a href="`+link+`"`) {
			t.Errorf("HTML part lacks the rebook link %s:\n%s", link, html.Body)
		}
		conf := byKind(t, srv.Messages(), models.MailConfirmation, res.Lead.Email)
		if conf.Header.Get("List-Unsubscribe") != "" || conf.Header.Get("List-Unsubscribe-Post") != "" {
			t.Errorf("the confirmation carries unsubscribe headers")
		}
		if err := s.DB().Where("id = ?", row.ID).Take(&row).Error; err != nil || row.Status != models.OutboxSent || row.Attempts != 1 {
			t.Fatalf("follow-up row %s after %d attempts", row.Status, row.Attempts)
		}
	})
}

// The apology for a call the host missed links to booking again.
func TestHostNoShow_ApologyLinksToBookingAgain(t *testing.T) {
	s, clock := openStore(t, "sqlite")
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	res := mustBook(t, s, 1)[0]
	clock.Set(res.Booking.StartAt.Add(20 * time.Minute))
	if _, err := s.SetOutcome(context.Background(), res.Booking.ID, models.OutcomeHostNoShow, &models.User{ID: 1, Name: "Sam", Email: "sam@callbook.test"}); err != nil {
		t.Fatal(err)
	}
	mustDrain(t, o)
	m := byKind(t, srv.Messages(), models.MailHostNoShow, res.Lead.Email)
	text, _ := m.Part("text/plain")
	if got := m.Subject(t); got != "We are sorry: we missed your call" {
		t.Fatalf("apology %q:\n%s", got, text.Body)
	}
	mustRebookLink(t, s, text.Body, res.Lead.ID)
	if m.Header.Get("List-Unsubscribe") != "" {
		t.Errorf("the apology, an email about the call, carries an unsubscribe header")
	}
}

var rebookLinkRE = regexp.MustCompile(`https://book\.example\.com/l/([A-Za-z0-9_-]+)`)

// mustRebookLink finds the rebook link in an email's text and checks it is
// a one-use private link, still unused, for the lead leadID; it returns
// the link.
func mustRebookLink(t *testing.T, s *store.Store, text string, leadID uint) string {
	t.Helper()
	m := rebookLinkRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no private booking link in:\n%s", text)
	}
	link, err := s.OpenBookingLink(context.Background(), m[1])
	if err != nil || link.LeadID == nil || *link.LeadID != leadID || link.UsesLeft != 1 {
		t.Fatalf("the rebook link %s: %+v %v; want a one-use link for lead %d", m[0], link, err, leadID)
	}
	return m[0]
}
