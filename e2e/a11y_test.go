package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/store/storetest"
)

// axePath is axe-core as `npm ci` in e2e/ installs it (package-lock.json
// pins the version).
var axePath = filepath.Join("node_modules", "axe-core", "axe.min.js")

// loadAxe returns the axe-core script, or "" with a note when it is not
// installed; in CI (CI set) a missing install is a failure.
func loadAxe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core missing in CI: %v (run `npm ci` in e2e/)", err)
		}
		t.Logf("accessibility checks skipped: run `npm ci` in e2e/ for axe-core (%v)", err)
		return ""
	}
	return string(src)
}

// mustAxe is loadAxe for tests that check nothing else: they skip.
func mustAxe(t *testing.T) string {
	t.Helper()
	axe := loadAxe(t)
	if axe == "" {
		storetest.Missing(t, "accessibility checks need axe-core: run `npm ci` in e2e/")
	}
	return axe
}

// axeViolation is one failed axe rule, reduced to what a message needs.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// blocking reports whether v fails the build: serious and critical
// problems, and heading order, which the issue asks for by name though
// axe rates it moderate.
func (v axeViolation) blocking() bool {
	return v.Impact == "serious" || v.Impact == "critical" || v.ID == "heading-order" || v.ID == "page-has-heading-one"
}

// axeCheck runs axe-core (WCAG 2.x A and AA plus best practices) on the
// page in the tab and fails the test on every blocking violation; it does
// nothing when axe is "" (not installed).
func (b *browser) axeCheck(axe, page string) {
	b.t.Helper()
	if axe == "" {
		return // not installed; loadAxe said so
	}
	b.do(chromedp.Evaluate[chromedp.Void](axe))
	vs := run(b, chromedp.Evaluate[[]axeViolation](`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
		resultTypes: ["violations"]
	}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help,
		targets: v.nodes.slice(0, 5).map(n => String(n.target) + ": " + (n.failureSummary || "").split("\n").slice(1).join(" "))
	})))`, chromedp.EvalAwaitPromise))
	// axe cannot tell the background behind text on a gradient, so it
	// leaves those contrasts unchecked. Check them again on the gradient's
	// worst point for that text, painted flat.
	flat := run(b, chromedp.Evaluate[[]axeViolation](`(() => {
		const worst = {".hero": "#dbe6ff", ".cta-band": "#3460dc", ".cta-final": "#23408f"};
		for (const [sel, color] of Object.entries(worst))
			document.querySelectorAll(sel).forEach(e => { e.style.background = color; });
		return axe.run(document, {runOnly: ["color-contrast"], resultTypes: ["violations"]});
	})().then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help + " (on the gradient's worst point)",
		targets: v.nodes.slice(0, 5).map(n => String(n.target) + ": " + (n.failureSummary || "").split("\n").slice(1).join(" "))
	})))`, chromedp.EvalAwaitPromise))
	for _, v := range append(vs, flat...) {
		msg := fmt.Sprintf("%s: axe %s (%s) %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "\n\t"))
		if v.blocking() {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
}

// TestAccessibility_PublicPagesPassAxe checks every public page, at phone
// and desktop widths, in the states a visitor meets: the guides, the
// booking page with and without errors, the confirmation, the reschedule
// and cancel pages, a canceled call and a missing page.
func TestAccessibility_PublicPagesPassAxe(t *testing.T) {
	axe := mustAxe(t)
	a := startApp(t)
	b := newBrowser(t)
	token := a.bookViaAPI(t, "ada@example.com", "Europe/Paris")
	canceled := a.bookViaAPI(t, "bob@example.com", "America/Chicago")
	cancelViaAPI(t, a, canceled)

	pages := []struct{ name, path string }{
		{"index", "/"},
		{"role page", "/roles/backend-engineer"},
		{"role page with coach's note", "/roles/software-engineer"},
		{"booking questions", "/roles/backend-engineer/book?tz=Asia/Tokyo"},
		{"booking questions with errors", "/roles/backend-engineer/book?tz=Asia/Tokyo&step=times&answers.linkedin=nope"},
		{"booking times", "/roles/backend-engineer/book?tz=Asia/Tokyo&step=times&answers.experience=1-2"},
		{"guide for a visitor not ready", "/roles/backend-engineer/book?tz=Asia/Tokyo&step=times&answers.experience=0"},
		{"confirmation page", "/bookings/" + token},
		{"canceled call", "/bookings/" + canceled},
		{"missing page", "/roles/astronaut"},
	}
	pages = append(pages,
		struct{ name, path string }{"reschedule page", "/bookings/" + token + "/reschedule?tz=Europe/Paris"},
		struct{ name, path string }{"cancel page", "/bookings/" + token + "/cancel"})
	b.do(timezone("Europe/Paris"))
	for _, width := range []int64{phoneWidth, desktopWidth} {
		b.setViewport(width, screenHeight(width))
		for _, p := range pages {
			b.do(chromedp.Navigate(a.URL+p.path), chromedp.WaitVisible(chromedp.CSS("h1")))
			b.axeCheck(axe, fmt.Sprintf("%s (%d px)", p.name, width))
		}
		// The booking form sent empty: the error summary and the fields'
		// errors are part of the page axe sees.
		b.do(chromedp.Navigate(a.URL+"/roles/backend-engineer/book?tz=Asia/Tokyo&step=times&answers.experience=1-2"),
			chromedp.WaitVisible(chromedp.CSS(submitButton)),
			chromedp.Click(chromedp.CSS(submitButton)),
			chromedp.WaitVisible(chromedp.CSS(errorSummary)))
		b.axeCheck(axe, fmt.Sprintf("booking page with errors (%d px)", width))
		if focused := run(b, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "error-summary" {
			t.Errorf("after a failed submit focus is on %q, want the error summary", focused)
		}
	}
}

// cancelViaAPI cancels a booking with the public API.
func cancelViaAPI(t *testing.T, a *app, token string) {
	t.Helper()
	resp, err := http.Post(a.URL+"/api/v1/bookings/"+token+"/cancel", "application/json", strings.NewReader(`{"reason":"test"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel API: %d", resp.StatusCode)
	}
}
