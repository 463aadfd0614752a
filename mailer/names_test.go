package mailer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Visitors' names are pasted into no header: each becomes a display name
// that net/mail quotes or encodes, in To and in the host notice's
// Reply-To, and every one of these is delivered.
func TestDrain_DeliversToVisitorsWhoseNamesNeedQuoting(t *testing.T) {
	names := []string{
		`Robert "Bob, Jr." Smith`,
		`Ana "Dr: Ana" Ruiz`,
		`Jane Doe\`,
		`O'Brien, Siobhán`,
		`<admin@example.com>`,
		`Zoë "Z" Ünal; (the 2nd)`,
		`=?utf-8?q?not_a_word?=`,
		`"`,
		`a\"b`,
	}
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	slots := freeSlots(t, s, len(names))
	booked := make([]uint, len(names))
	for i, name := range names {
		res, err := s.BookSlot(context.Background(), models.BookingRequest{
			Name: name, Email: fmt.Sprintf("guest%d@example.com", i), TargetTitle: "Backend Engineer",
			Start: slots[i].Start, Timezone: "Europe/Berlin",
		}, nil)
		if err != nil {
			t.Fatalf("book for %q: %v", name, err)
		}
		booked[i] = res.Booking.ID
	}
	if n := mustDrain(t, o); n != 2*len(names) {
		t.Errorf("sent %d, want %d", n, 2*len(names))
	}
	for _, r := range outboxRows(t, s) {
		if r.Status != models.OutboxSent {
			t.Errorf("email %d to %q <%s>: %s %q", r.ID, r.ToName, r.ToAddr, r.Status, r.LastError)
		}
	}
	msgs := srv.Messages()
	for i, name := range names {
		addr := fmt.Sprintf("guest%d@example.com", i)
		pm := byKind(t, msgs, models.MailConfirmation, addr)
		to, err := pm.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != addr || to[0].Name != name {
			t.Errorf("To for %q: %q parsed as %v (%v)", name, pm.Header.Get("To"), to, err)
		}
		// The host's notice answers to the visitor, name and all.
		notice := noticeOf(t, msgs, booked[i])
		rt, err := notice.Header.AddressList("Reply-To")
		if err != nil || len(rt) != 1 || rt[0].Address != addr || rt[0].Name != name {
			t.Errorf("host notice Reply-To for %q: %q parsed as %v (%v)", name, notice.Header.Get("Reply-To"), rt, err)
		}
	}
}

// noticeOf finds the host notice about booking id among msgs.
func noticeOf(t testing.TB, msgs []received, id uint) parsedMail {
	t.Helper()
	for _, m := range msgs {
		pm := parseMail(t, m.Data)
		if pm.Header.Get("X-Callbook-Kind") == models.MailHostNotice && pm.Header.Get("X-Callbook-Booking") == fmt.Sprint(id) {
			return pm
		}
	}
	t.Fatalf("no host notice about booking %d among %d received", id, len(msgs))
	return parsedMail{}
}
