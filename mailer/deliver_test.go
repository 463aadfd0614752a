package mailer_test

import (
	"context"
	"crypto/tls"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestDrain_DeliversConfirmationAndHostNoticeWithHeadersAndParts(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	res := mustBook(t, s, 1)[0]

	if n := mustDrain(t, o); n != 2 {
		t.Fatalf("drain sent %d, want 2", n)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || srv.Conns() != 1 {
		t.Fatalf("server got %d messages over %d connections, want 2 over 1", len(msgs), srv.Conns())
	}
	rows := outboxRows(t, s)
	manage := "https://book.example.com/bookings/" + s.BookingToken(res.Booking.UID)
	when := "(Europe/Berlin, CET)"

	conf := byKind(t, msgs, models.MailConfirmation, "visitor0@example.com")
	checkHeaders(t, conf, rows[0], res.Booking.ID)
	if got := conf.Header.Get("To"); !strings.Contains(got, "visitor0@example.com") || !strings.Contains(got, "Visitor 0") {
		t.Errorf("To = %q", got)
	}
	for _, media := range []string{"text/plain", "text/html"} {
		p, ok := conf.Part(media)
		if !ok || !strings.Contains(p.Body, manage) || !strings.Contains(p.Body, when) {
			t.Errorf("confirmation %s part lacks the manage link or the visitor's zone:\n%s", media, p.Body)
		}
	}
	ics, ok := conf.Part("text/calendar")
	if !ok || ics.Filename != "invite.ics" || !strings.EqualFold(ics.Params["method"], "REQUEST") ||
		!strings.EqualFold(ics.Params["charset"], "utf-8") {
		t.Fatalf("invite part = %+v", ics)
	}
	if !strings.Contains(ics.Body, "METHOD:REQUEST\r\n") || !strings.Contains(ics.Body, "UID:"+res.Booking.UID+"@book.example.com\r\n") {
		t.Errorf("invite.ics:\n%s", ics.Body)
	}

	notice := byKind(t, msgs, models.MailHostNotice, storetest.TeamEmail)
	checkHeaders(t, notice, rows[1], res.Booking.ID)
	text, _ := notice.Part("text/plain")
	for _, want := range []string{"Visitor 0", "visitor0@example.com", "+1 555 0100", "Data Analyst", "Backend Engineer",
		"I'd like to move into backend work.", "https://book.example.com/admin/leads/" + strconv.Itoa(int(res.Lead.ID)),
		"https://book.example.com/roles/backend-engineer", when} {
		if !strings.Contains(text.Body, want) {
			t.Errorf("host notice lacks %q:\n%s", want, text.Body)
		}
	}
	if inv, ok := notice.Part("text/calendar"); !ok || !strings.Contains(inv.Body, "UID:"+res.Booking.UID+"@book.example.com\r\n") {
		t.Error("host notice lacks the host's copy of the invite")
	}
	if shown, err := o.Render(rows[0]); err != nil || shown.Subject != conf.Subject(t) || string(shown.ICS) != ics.Body {
		t.Errorf("the mail viewer's rendering differs from what was sent (%v)", err)
	}
	for _, r := range outboxRows(t, s) {
		if r.Status != models.OutboxSent || r.Attempts != 1 || r.SentAt == nil {
			t.Errorf("row %d = %s, attempts %d", r.ID, r.Status, r.Attempts)
		}
	}
	if got := counterValue(t, o, "callbook_emails_sent_total", "confirmation"); got != 1 {
		t.Errorf("sent{confirmation} = %v, want 1", got)
	}
	var events int64
	s.DB().Model(&models.Event{}).Where("lead_id = ? AND type = ?", res.Lead.ID, "email.sent").Count(&events)
	if events != 2 {
		t.Errorf("%d email.sent events, want 2", events)
	}
}

func checkHeaders(t *testing.T, pm parsedMail, row models.OutboxMessage, bookingID uint) {
	t.Helper()
	want := map[string]string{
		"Message-Id": row.MessageID, "X-Callbook-Kind": row.Kind,
		"X-Callbook-Booking": strconv.Itoa(int(bookingID)), "From": `"Callbook" <no-reply@callbook.test>`,
	}
	for k, v := range want {
		if got := pm.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", row.Kind, k, got, v)
		}
	}
	if d, err := pm.Header.Date(); err != nil || !d.Equal(row.CreatedAt.Truncate(time.Second)) {
		t.Errorf("%s: Date = %v (%v), want %v", row.Kind, d, err, row.CreatedAt)
	}
	if subj := pm.Subject(t); subj == "" || strings.ContainsAny(subj, "\r\n") {
		t.Errorf("%s: subject %q", row.Kind, subj)
	}
	if _, ok := pm.Part("text/plain"); !ok {
		t.Errorf("%s: no text part", row.Kind)
	}
	if _, ok := pm.Part("text/html"); !ok {
		t.Errorf("%s: no HTML part", row.Kind)
	}
}

func TestDrain_STARTTLSWithSelfSignedCertificateAndAuthPlain(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	cert, pool := selfSigned(t)
	srv := startSMTP(t, smtpBehaviour{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, User: "mailer", Pass: "s3cret;pass"})
	url := "smtp://mailer:s3cret%3Bpass@" + srv.Addr + "?tls=required"
	mustBook(t, s, 1)

	untrusted := mustOutbox(t, s, clock, url, nil)
	if n, err := untrusted.Drain(context.Background()); n != 0 || err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("with an unknown certificate: sent %d, err %v; want a certificate error", n, err)
	}
	for _, r := range outboxRows(t, s) {
		if r.Status != models.OutboxPending || r.Attempts != 0 {
			t.Fatalf("after the TLS failure row %d = %s attempts %d, want pending and uncounted", r.ID, r.Status, r.Attempts)
		}
	}
	clock.Advance(10 * time.Minute)
	o := mustOutbox(t, s, clock, url, trusting(pool))
	if n := mustDrain(t, o); n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
	for _, m := range srv.Messages() {
		if !m.TLS || m.User != "mailer" {
			t.Errorf("message to %v: TLS %v user %q, want TLS and user mailer", m.To, m.TLS, m.User)
		}
	}
}

func TestDrain_ImplicitTLS(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	cert, pool := selfSigned(t)
	srv := startSMTP(t, smtpBehaviour{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Implicit: true})
	o := mustOutbox(t, s, clock, srv.URL("smtps"), trusting(pool))
	mustBook(t, s, 1)
	if n := mustDrain(t, o); n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
	for _, m := range srv.Messages() {
		if !m.TLS {
			t.Error("smtps:// delivered without TLS")
		}
	}
}

func TestDrain_WrongPasswordKeepsMailPending(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	cert, pool := selfSigned(t)
	srv := startSMTP(t, smtpBehaviour{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, User: "mailer", Pass: "right"})
	o := mustOutbox(t, s, clock, "smtp://mailer:wrong@"+srv.Addr, trusting(pool))
	mustBook(t, s, 1)
	if _, err := o.Drain(context.Background()); err == nil || !strings.Contains(err.Error(), "535") {
		t.Fatalf("drain with a wrong password: %v, want the server's 535", err)
	}
	for _, r := range outboxRows(t, s) {
		if r.Status != models.OutboxPending || !strings.Contains(r.LastError, "535") {
			t.Fatalf("row %d = %s %q, want pending with the server's answer", r.ID, r.Status, r.LastError)
		}
	}
}

func TestDrain_ServerDownWhile20BookingsAreMadeLosesNothing(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	addr, port := freeAddr(t)
	o := mustOutbox(t, s, clock, "smtp://127.0.0.1:"+strconv.Itoa(port), nil)
	mustBook(t, s, 20)

	n, err := o.Drain(context.Background())
	if n != 0 || err == nil {
		t.Fatalf("drain with the server down: sent %d, err %v", n, err)
	}
	rows := outboxRows(t, s)
	if len(rows) != 40 {
		t.Fatalf("%d emails queued, want 40", len(rows))
	}
	for _, r := range rows {
		if r.Status != models.OutboxPending || r.Attempts != 0 || !r.NextAttemptAt.Equal(r.CreatedAt) {
			t.Fatalf("row %d = %s attempts %d next %v, want pending, uncounted, due as queued", r.ID, r.Status, r.Attempts, r.NextAttemptAt)
		}
	}
	if n := mustDrain(t, o); n != 0 || !o.Pause().Paused {
		t.Fatalf("sent %d during the pause (paused: %v)", n, o.Pause().Paused)
	}

	srv := startSMTP(t, smtpBehaviour{Addr: addr})
	clock.Advance(10 * time.Minute)
	if n := mustDrain(t, o); n != 40 {
		t.Fatalf("sent %d after the server came up, want 40", n)
	}
	if n := mustDrain(t, o); n != 0 {
		t.Fatalf("a second drain sent %d more", n)
	}
	assertEachOnce(t, srv.Messages(), rows)
}

// assertEachOnce checks that the server received exactly one message per
// row, matched by Message-ID.
func assertEachOnce(t *testing.T, msgs []received, rows []models.OutboxMessage) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range msgs {
		seen[parseMail(t, m.Data).Header.Get("Message-Id")]++
	}
	if len(msgs) != len(rows) {
		t.Errorf("server received %d messages, want %d", len(msgs), len(rows))
	}
	for _, r := range rows {
		if seen[r.MessageID] != 1 {
			t.Errorf("row %d (%s) received %d times", r.ID, r.MessageID, seen[r.MessageID])
		}
	}
}

func TestDrain_TemporaryRefusalIsRetriedAfterBackoff(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	mustBook(t, s, 1)
	srv.DeferData(1)

	if n := mustDrain(t, o); n != 1 {
		t.Fatalf("sent %d, want 1 (the other deferred)", n)
	}
	var deferred models.OutboxMessage
	for _, r := range outboxRows(t, s) {
		if r.Status == models.OutboxPending {
			deferred = r
		}
	}
	if deferred.ID == 0 || deferred.Attempts != 1 || !strings.Contains(deferred.LastError, "451") ||
		!deferred.NextAttemptAt.After(clock.Now()) || deferred.NextAttemptAt.After(clock.Now().Add(30*time.Second)) {
		t.Fatalf("deferred row = %+v, want pending, 1 attempt, the 451 kept, due within 30s", deferred)
	}
	if n := mustDrain(t, o); n != 0 {
		t.Fatalf("retried before the backoff: sent %d", n)
	}
	clock.Advance(31 * time.Second)
	if n := mustDrain(t, o); n != 1 {
		t.Fatalf("sent %d after the backoff, want 1", n)
	}
	assertEachOnce(t, srv.Messages(), outboxRows(t, s))
	if got := counterValue(t, o, "callbook_emails_retried_total", deferred.Kind); got != 1 {
		t.Errorf("retried{%s} = %v, want 1", deferred.Kind, got)
	}
}

func TestDrain_TemporaryRefusalsFailAfterMaxAttempts(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), func(o *mailer.Options) { o.MaxAttempts = 3 })
	mustQueueDigests(t, s, 1)
	srv.DeferData(1000)
	for range 3 {
		mustDrain(t, o)
		clock.Advance(2 * time.Hour)
	}
	row := outboxRows(t, s)[0]
	if row.Status != models.OutboxFailed || row.Attempts != 3 || !strings.Contains(row.LastError, "gave up after 3 attempts") {
		t.Fatalf("row = %s attempts %d %q, want failed after 3", row.Status, row.Attempts, row.LastError)
	}
}

func TestDrain_RecipientRefusedWith5xxFailsAtOnce(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	srv.RejectRcpt("visitor0@example.com", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	res := mustBook(t, s, 1)[0]

	if n := mustDrain(t, o); n != 1 {
		t.Fatalf("sent %d, want the host notice only", n)
	}
	clock.Advance(3 * time.Hour)
	mustDrain(t, o)
	if tries := srv.RcptTries("visitor0@example.com"); tries != 1 {
		t.Fatalf("the refused recipient was tried %d times, want 1", tries)
	}
	var failed models.OutboxMessage
	for _, r := range outboxRows(t, s) {
		if r.Kind == models.MailConfirmation {
			failed = r
		}
	}
	if failed.Status != models.OutboxFailed || failed.Attempts != 1 ||
		!strings.Contains(failed.LastError, "550") || !strings.Contains(failed.LastError, "No such user here") {
		t.Fatalf("refused row = %s attempts %d %q", failed.Status, failed.Attempts, failed.LastError)
	}
	var ev models.Event
	if err := s.DB().Where("lead_id = ? AND type = ?", res.Lead.ID, "email.failed").Take(&ev).Error; err != nil ||
		!strings.Contains(ev.Data, "No such user here") {
		t.Fatalf("email.failed event = %+v (%v)", ev, err)
	}
}

func TestDrain_TwoSendersSendEachRowOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := openStore(t, dialect)
		srv := startSMTP(t, smtpBehaviour{})
		small := func(o *mailer.Options) { o.BatchSize = 7 }
		a := mustOutbox(t, s, clock, srv.URL("smtp"), small)
		b := mustOutbox(t, s, clock, srv.URL("smtp"), small)
		mustQueueDigests(t, s, 300)

		var wg sync.WaitGroup
		var sentA, sentB int
		wg.Go(func() { sentA = mustDrain(t, a) })
		wg.Go(func() { sentB = mustDrain(t, b) })
		wg.Wait()
		if sentA+sentB != 300 || sentA == 0 || sentB == 0 {
			t.Errorf("senders sent %d + %d, want 300 shared by both", sentA, sentB)
		}
		rows := outboxRows(t, s)
		assertEachOnce(t, srv.Messages(), rows)
		for _, r := range rows {
			if r.Status != models.OutboxSent || r.Attempts != 1 {
				t.Fatalf("row %d = %s attempts %d", r.ID, r.Status, r.Attempts)
			}
		}
	})
}

// TestRun_DeliversOnTheCommitNotThePoll checks that a booking's commit
// wakes the sender: with an hour between polls, the emails arrive at once.
// The deadline is generous so that a loaded machine cannot fail it; the
// time taken is logged (milliseconds when quiet).
func TestRun_DeliversOnTheCommitNotThePoll(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), func(o *mailer.Options) { o.PollInterval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	mustBook(t, s, 1)
	committed := time.Now()
	for len(srv.Messages()) < 2 {
		if time.Since(committed) > time.Minute {
			t.Fatalf("a minute after the commit the server has %d of 2 emails: the sender waited for its poll", len(srv.Messages()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("both emails arrived %v after the commit", time.Since(committed).Round(time.Millisecond))
}

func TestOutbox_WithoutSMTPKeepsMailAndSaysSoOnce(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	o := mustOutbox(t, s, clock, "", nil)
	mustBook(t, s, 1)
	if n := mustDrain(t, o); n != 0 {
		t.Fatalf("sent %d with no server", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	o.Run(ctx)
	for _, r := range outboxRows(t, s) {
		if r.Status != models.OutboxPending || r.Attempts != 0 {
			t.Fatalf("row %d = %s attempts %d, want untouched", r.ID, r.Status, r.Attempts)
		}
	}
	const line = "CALLBOOK_SMTP_URL is not set: emails are kept in the outbox and not delivered"
	if got := strings.Count(o.Log.String(), line); got != 1 {
		t.Fatalf("the not-configured line was logged %d times:\n%s", got, o.Log.String())
	}
	if o.Configured() {
		t.Error("Configured() with no server")
	}
}

func TestDrain_CanceledContextLeavesMailPending(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	mustBook(t, s, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := o.Drain(ctx); n != 0 || err == nil {
		t.Fatalf("canceled drain: sent %d err %v", n, err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a canceled drain sent mail")
	}
	for _, r := range outboxRows(t, s) {
		if r.Status != models.OutboxPending || r.Attempts != 0 {
			t.Fatalf("row %d = %s attempts %d", r.ID, r.Status, r.Attempts)
		}
	}
}

func TestNew_RefusesMetricsRegisteredTwice(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	o := mustOutbox(t, s, clock, "", nil)
	_, err := mailer.New(mailer.Options{Store: s, Registerer: o.Reg})
	if err == nil {
		t.Fatal("a second Outbox registered the same metrics without an error")
	}
}
