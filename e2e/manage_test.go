package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/models"
)

// TestManage_RescheduleThenCancelFromTheConfirmationPage follows the
// visitor's link: move the call to another day from the confirmation page,
// see the new time there, then cancel it with a reason.
func TestManage_RescheduleThenCancelFromTheConfirmationPage(t *testing.T) {
	a := startApp(t)
	token := a.bookViaAPI(t, "ada@example.com", "Europe/London")
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))
	lead := a.leadByEmail(t, "ada@example.com")
	before := a.bookingOf(t, lead.ID)

	b.do(timezone("Europe/London"),
		chromedp.Navigate(a.URL+"/bookings/"+token),
		chromedp.WaitVisible(chromedp.CSS(`a[href*="/reschedule"]`)),
		chromedp.Click(chromedp.CSS(`a[href*="/reschedule"]`)),
		chromedp.WaitVisible(chromedp.CSS(otherDay)),
	)
	day := b.attr(otherDay, "data-date")
	b.do(chromedp.Click(chromedp.CSS(otherDay)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.calendar a.is-selected[data-date=%q]`, day))),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-times][aria-busy]`)),
	)
	start := run(b, chromedp.Value(chromedp.CSS(firstTime)))
	b.do(chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.Click(chromedp.CSS(`form[method="post"][action*="/reschedule"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert-ok`)),
	)
	st, _ := time.Parse(time.RFC3339, start)
	if got := b.text(".ticket-date"); got != st.Format("Monday, 2 January 2006") {
		t.Errorf("confirmation shows %q after the move, want %s", got, st.Format("Monday, 2 January 2006"))
	}
	moved := a.bookingOf(t, lead.ID)
	if moved.ID != before.ID || !moved.StartAt.Equal(st) || moved.Status != models.BookingConfirmed {
		t.Fatalf("after reschedule: booking %d at %s (%s), want %d at %s", moved.ID, moved.StartAt, moved.Status, before.ID, st)
	}

	b.do(chromedp.Click(chromedp.CSS(`a[href$="/cancel"]`)),
		chromedp.WaitVisible(chromedp.CSS("#reason")),
		chromedp.SendKeys(chromedp.CSS("#reason"), "Found a job already"),
		chromedp.Click(chromedp.CSS(`form[method="post"][action$="/cancel"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert-ok`)),
	)
	if h := b.text("h1"); !strings.Contains(h, "canceled") {
		t.Errorf("after cancel the page says %q", h)
	}
	if got := a.bookingOf(t, lead.ID); got.Status != models.BookingCanceled {
		t.Errorf("booking status %s after cancel", got.Status)
	}
}
