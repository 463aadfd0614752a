package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
)

// inbox is a real SMTP server (emersion/go-smtp) inside the test, keeping
// every message it accepts.
type inbox struct {
	mu   sync.Mutex
	msgs [][]byte
	addr string
}

type inboxSession struct{ in *inbox }

func (s inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s inboxSession) Reset()                               {}
func (s inboxSession) Logout() error                        { return nil }
func (s inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	s.in.msgs = append(s.in.msgs, b)
	s.in.mu.Unlock()
	return err
}

func startInbox(t *testing.T) *inbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := &inbox{addr: ln.Addr().String()}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return inboxSession{in}, nil }))
	srv.Domain = "localhost"
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return in
}

// find returns the message of kind, taken apart, or fails.
func (in *inbox) find(t *testing.T, kind string) (*mail.Message, string) {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, raw := range in.msgs {
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("X-Callbook-Kind") == kind {
			return m, string(raw)
		}
	}
	t.Fatalf("no %s email among %d", kind, len(in.msgs))
	return nil, ""
}

var rebookLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/l/[A-Za-z0-9_-]+`)

// A sales person marks a call as a no-show; half an hour later the rebook
// email arrives, and the visitor books again through its link.
func TestFollowup_NoShowRebookEmailLeadsToANewBooking(t *testing.T) {
	a := startApp(t)
	in := startInbox(t)
	a.mustStaff(t, "sam@callbook.test", models.RoleSales)
	a.bookViaAPIWith(t, map[string]any{"email": "grace@example.com", "timezone": businessZone})
	lead := a.leadByEmail(t, "grace@example.com")
	// The call took place yesterday.
	if err := a.Store.DB().Exec("UPDATE bookings SET start_at = ?, end_at = ? WHERE lead_id = ?",
		time.Now().Add(-24*time.Hour), time.Now().Add(-24*time.Hour+30*time.Minute), lead.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.Store.DB().Exec("DELETE FROM booking_claims WHERE booking_id IN (SELECT id FROM bookings WHERE lead_id = ?)", lead.ID).Error; err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.signIn(a.URL, "/admin/leads/"+fmt.Sprint(lead.ID), "sam@callbook.test")
	b.do(chromedp.WaitVisible(chromedp.CSS(`button[name="outcome"][value="no_show"]`)),
		chromedp.Click(chromedp.CSS(`button[name="outcome"][value="no_show"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name="outcome"][value="no_show"][aria-pressed="true"]`)),
	)
	var row models.OutboxMessage
	if err := a.Store.DB().Where("lead_id = ? AND kind = ?", lead.ID, "followup-rebook").Take(&row).Error; err != nil {
		t.Fatalf("no rebook email waiting: %v", err)
	}
	if d := row.NextAttemptAt.Sub(row.CreatedAt); d != 30*time.Minute {
		t.Fatalf("the rebook email is due %s after the no-show, want 30m", d)
	}
	if page := b.text(".timeline"); !strings.Contains(page, "will go on") {
		t.Errorf("the timeline does not say when the follow-up goes: %s", page)
	}
	// Half an hour later.
	if err := a.Store.DB().Exec("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", time.Now().Add(-time.Second), row.ID).Error; err != nil {
		t.Fatal(err)
	}
	cfg, err := mailer.ParseSMTPURL("smtp://" + in.addr)
	if err != nil {
		t.Fatal(err)
	}
	o, err := mailer.New(mailer.Options{Store: a.Store, SMTP: cfg, From: "Callbook <no-reply@callbook.test>", BaseURL: a.URL,
		Log: quietLog(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, raw := in.find(t, "followup-rebook")
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("the rebook email lacks one-click unsubscribe")
	}
	link := rebookLink.FindString(strings.ReplaceAll(strings.ReplaceAll(raw, "=\r\n", ""), "=3D", "="))
	if link == "" {
		t.Fatalf("no rebook link in:\n%s", raw)
	}

	// The visitor follows the link and books again.
	v := newBrowser(t)
	v.setViewport(desktopWidth, screenHeight(desktopWidth))
	v.do(timezone(businessZone), chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#q-experience")),
		chromedp.SetValue(chromedp.CSS("#q-experience"), "1-2"),
		chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstTime)),
		chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.SetValue(chromedp.CSS("#name"), "Grace Hopper"),
		chromedp.SetValue(chromedp.CSS("#email"), "grace@example.com"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(".ticket")),
	)
	var n int64
	a.Store.DB().Model(&models.Booking{}).Where("lead_id = ? AND status = ?", lead.ID, models.BookingConfirmed).Count(&n)
	if n != 1 {
		t.Fatalf("%d confirmed calls after rebooking, want 1", n)
	}

	// The link was for one call: opened again, it says it is used up.
	v.do(chromedp.Navigate(link))
	if gone := v.text("h1"); gone != "This booking link can no longer be used" {
		t.Fatalf("the rebook link opened again shows %q", gone)
	}
}

// The unsubscribe page works without JavaScript and passes axe: opening
// it changes nothing, its button unsubscribes.
func TestUnsubscribe_PageWithoutJavaScript(t *testing.T) {
	a := startApp(t)
	axe := loadAxe(t)
	a.bookViaAPIWith(t, map[string]any{"email": "grace@example.com", "timezone": businessZone})
	lead := a.leadByEmail(t, "grace@example.com")
	const token = "e2e-unsubscribe-key-e2e-unsubscribe-key"
	if err := a.Store.DB().Exec("UPDATE leads SET unsubscribe_token = ? WHERE id = ?", token, lead.ID).Error; err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))
	b.do(noScript(), chromedp.Navigate(a.URL+"/u/"+token), chromedp.WaitVisible(chromedp.CSS(`form[action="/u/`+token+`"] button`)))
	b.do(scriptOn()) // axe is a script; the page itself ran none
	b.axeCheck(axe, "unsubscribe")
	b.do(noScript())
	if l := a.leadByEmail(t, "grace@example.com"); l.UnsubscribedAt != nil {
		t.Fatal("opening the page unsubscribed the lead")
	}
	b.do(chromedp.Click(chromedp.CSS(`form[action="/u/`+token+`"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)))
	if h := b.text("h1"); h != "You are unsubscribed" {
		t.Errorf("after the button: %q", h)
	}
	b.do(scriptOn())
	b.axeCheck(axe, "unsubscribed")
	if l := a.leadByEmail(t, "grace@example.com"); l.UnsubscribedAt == nil {
		t.Fatal("the button did not unsubscribe the lead")
	}
}
