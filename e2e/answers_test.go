package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestQuestions_LongAnswerFitsAPhone answers the LinkedIn question with a
// long profile address and checks, at phone width, that the times page
// does not scroll sideways: the answer wraps inside its summary.
func TestQuestions_LongAnswerFitsAPhone(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))
	profile := "https://www.linkedin.com/in/gracebrewstermurrayhopper1906?originalSubdomain=uk"
	b.do(timezone(businessZone),
		chromedp.Navigate(a.URL+"/roles/backend-engineer/book?tz="+businessZone),
		chromedp.WaitVisible(chromedp.CSS("#q-experience")),
		chromedp.SetValue(chromedp.CSS("#q-experience"), "6+"),
		chromedp.SendKeys(chromedp.CSS("#q-linkedin"), profile),
		chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstTime)),
	)
	if shown := run(b, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".answers-summary dd")).map(d => d.textContent).join(" ")`)); !strings.Contains(shown, profile) {
		t.Fatal("the times page does not show the answers")
	}
	// A phone widens its layout viewport to fit what overflows, so the
	// page is measured against the screen's width, not innerWidth alone.
	wide := run(b, chromedp.Evaluate[[]float64](`[document.scrollingElement.scrollWidth, window.innerWidth]`))
	if wide[0] > float64(b.width) || wide[1] > float64(b.width) {
		t.Errorf("on a %d px phone the times page is %v px wide (inner width %v): the long answer pushes it sideways", b.width, wide[0], wide[1])
	}
}
