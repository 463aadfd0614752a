package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestKinds_VisitorPicksTheStrategySessionOnAPhoneAndBooksIt chooses
// between the Backend Engineer page's intro call and strategy session on a
// phone: the two offer different times, and the strategy session is
// booked as a 45-minute call.
func TestKinds_VisitorPicksTheStrategySessionOnAPhoneAndBooksIt(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))
	times := func() []string {
		return run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('input[name="start"]')).map(i => i.value)`))
	}
	choose := func(call string) []string {
		b.do(chromedp.Navigate(a.URL+"/roles/backend-engineer/book?tz="+businessZone),
			chromedp.WaitVisible(chromedp.CSS("#call-"+call)),
			chromedp.Click(chromedp.CSS("#call-"+call)),
			chromedp.SetValue(chromedp.CSS("#q-experience"), "1-2"),
			chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(firstTime)),
		)
		if got := b.attr("[data-call-kind]", "data-call-kind"); got != call {
			t.Fatalf("the times page is for %q, want %q", got, call)
		}
		return times()
	}
	b.do(timezone(businessZone))
	intro := choose("intro")
	strategy := choose("strategy")
	if strings.Join(intro, ",") == strings.Join(strategy, ",") {
		t.Fatal("the intro call and the strategy session offer the same times")
	}
	if !strings.Contains(b.text(".book-head"), "45 minutes") {
		t.Fatalf("the strategy page does not give its length: %q", b.text(".book-head"))
	}
	start := run(b, chromedp.Value(chromedp.CSS(firstTime)))
	b.do(chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.SendKeys(chromedp.CSS("#name"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS("#email"), "grace@example.com"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(".ticket")),
	)
	bk := a.bookingOf(t, a.leadByEmail(t, "grace@example.com").ID)
	st, _ := time.Parse(time.RFC3339, start)
	if bk.CallID != "strategy" || !bk.StartAt.Equal(st) || bk.EndAt.Sub(bk.StartAt) != 45*time.Minute {
		t.Fatalf("booked %q at %s for %s, want the 45-minute strategy session at %s", bk.CallID, bk.StartAt,
			bk.EndAt.Sub(bk.StartAt), st)
	}
}
