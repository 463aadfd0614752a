package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// shot saves a screenshot of the tab as name.png in CALLBOOK_SCREENSHOTS
// (a folder) when that is set, for a person to look at.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("CALLBOOK_SCREENSHOTS")
	if dir == "" || dir == "docs" {
		return
	}
	png := run(b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestStaff_DashboardWeekLabelsDoNotOverlap looks at the dashboard on a
// common laptop screen (1366×768): no two week labels under a chart's bars
// overlap.
func TestStaff_DashboardWeekLabelsDoNotOverlap(t *testing.T) {
	a := startApp(t)
	a.mustAdmin(t, "sam@callbook.test")
	b := newBrowser(t)
	b.setViewport(1366, 768)
	b.signIn(a.URL, "/admin", "sam@callbook.test")
	b.do(chromedp.WaitVisible(chromedp.CSS(".chart svg")))
	b.shot("dashboard-1366")
	overlaps := run(b, chromedp.Evaluate[[]string](`(() => {
		const out = [];
		for (const svg of document.querySelectorAll(".chart svg")) {
			const ticks = [...svg.querySelectorAll("text[dy='14']")].map(t => ({text: t.textContent, r: t.getBoundingClientRect()}));
			if (ticks.length < 2) out.push("a chart with " + ticks.length + " week labels");
			for (let i = 1; i < ticks.length; i++) {
				if (ticks[i].r.left < ticks[i - 1].r.right + 2) out.push(ticks[i - 1].text + " / " + ticks[i].text);
			}
		}
		return out;
	})()`))
	if len(overlaps) > 0 {
		t.Errorf("week labels touch or overlap at 1366 px: %s", strings.Join(overlaps, ", "))
	}
}

// TestStaff_LeadListOnAPhoneShowsLeadsFirst opens the lead list on a
// phone: the filters are folded behind one "Search and filters" line, so
// the first lead is on the first screen, and they open with a tap. On a
// desktop they show open.
func TestStaff_LeadListOnAPhoneShowsLeadsFirst(t *testing.T) {
	a := startApp(t)
	a.mustAdmin(t, "sam@callbook.test")
	a.bookViaAPI(t, "katherine@example.com", "America/Chicago")
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))
	b.signIn(a.URL, "/admin/leads", "sam@callbook.test")
	b.do(chromedp.WaitVisible(chromedp.CSS(`table.leads a[href^="/admin/leads/"]`)))
	b.shot("leads-phone")
	top := run(b, chromedp.Evaluate[float64](`document.querySelector('table.leads a[href^="/admin/leads/"]').getBoundingClientRect().bottom`))
	if top > float64(screenHeight(phoneWidth)) {
		t.Errorf("the first lead ends %.0f px down a %d px screen", top, screenHeight(phoneWidth))
	}
	b.do(chromedp.Click(chromedp.CSS(".lead-filters summary")), chromedp.WaitVisible(chromedp.CSS("#status")))

	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.do(chromedp.Navigate(a.URL+"/admin/leads"), chromedp.WaitVisible(chromedp.CSS("#status")))
	if run(b, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".lead-filters summary")).display !== "none"`)) {
		t.Error("on a desktop the filters' fold line shows")
	}
}

// TestStaff_AvailabilityRowsAddAndRemoveInPlace adds and removes hours on
// the availability page with its script: rows appear and go without a
// page load, and what is saved is what the rows say.
func TestStaff_AvailabilityRowsAddAndRemoveInPlace(t *testing.T) {
	a := startApp(t)
	a.mustAdmin(t, "sam@callbook.test")
	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.signIn(a.URL, "/admin/availability", "sam@callbook.test")
	b.do(chromedp.WaitVisible(chromedp.CSS(`button[data-add-row][value="sat"]`)))
	b.shot("availability")
	rows := func(day string) int {
		return run(b, chromedp.Evaluate[int](`document.querySelectorAll('input[name="`+day+`_start"]').length`))
	}
	sat := rows("sat")
	b.do(chromedp.Click(chromedp.CSS(`button[data-add-row][value="sat"]`)))
	if rows("sat") != sat+1 || !run(b, chromedp.Evaluate[bool](`document.activeElement.name === "sat_start" && document.activeElement.value === ""`)) {
		t.Fatalf("Add hours: %d Saturday rows (want %d), focus on %s", rows("sat"), sat+1, run(b, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 80)`)))
	}
	// Saturday 10:00–12:00 in the new row; Monday's first hours removed.
	run(b, chromedp.Evaluate[bool](`(() => { const s = [...document.querySelectorAll('input[name="sat_start"]')].pop();
		s.value = "10:00"; s.closest("[data-row]").querySelector('input[name="sat_end"]').value = "12:00"; return true; })()`))
	b.do(chromedp.Click(chromedp.CSS(`input[name="mon_start"] ~ button[data-remove-row]`)))
	b.shot("availability-edited")
	b.do(chromedp.Click(chromedp.CSS(`.avail .actions button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".alert-ok")))
	cfg, err := a.Store.Availability(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Weekly["sat"]; len(got) != 1 || got[0] != [2]string{"10:00", "12:00"} {
		t.Errorf("Saturday saved as %v, want 10:00–12:00", got)
	}
	if got := cfg.Weekly["mon"]; len(got) != 0 {
		t.Errorf("Monday saved as %v, want closed after removing its hours", got)
	}
}
