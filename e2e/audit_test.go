package e2e

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStaff_AuditLogShowsSignInsFiltersAndDownloads signs an admin in,
// follows the staff menu to the audit log, finds the sign-in there with
// the retention in force, filters by action and downloads the CSV. The
// page passes axe.
func TestStaff_AuditLogShowsSignInsFiltersAndDownloads(t *testing.T) {
	a := startApp(t)
	axe := loadAxe(t)
	a.mustAdmin(t, "sam@callbook.test")

	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.signIn(a.URL, "/admin", "sam@callbook.test")
	b.do(chromedp.Click(chromedp.CSS(`nav.staff-nav a[href="/admin/audit"]`)), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	if got := b.text("table.audit"); !strings.Contains(got, "signin.succeeded") || !strings.Contains(got, "sam@callbook.test") {
		t.Errorf("the audit log lacks the sign-in:\n%s", got)
	}
	if got := b.text("main"); !strings.Contains(got, "Audit entries are kept for 365 days") || !strings.Contains(got, "lead retention is off") {
		t.Errorf("the page does not say what is kept how long:\n%s", got)
	}
	b.axeCheck(axe, "audit log")

	// The settings page says the same, with the sign-in policies.
	b.do(chromedp.Click(chromedp.CSS(`nav.staff-nav a[href="/admin/settings"]`)), chromedp.WaitVisible(chromedp.CSS("#retention-h")))
	if got := b.text("main"); !strings.Contains(got, "Audit entries are kept for 365 days") || !strings.Contains(got, "Single sign-on: off") {
		t.Errorf("the settings page:\n%s", got)
	}
	b.axeCheck(axe, "settings")
	b.do(chromedp.Navigate(a.URL+"/admin/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))

	b.do(chromedp.SetValue(chromedp.CSS("#action"), "leads.exported"),
		chromedp.Click(chromedp.CSS(`form.audit-filters button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("td.empty")))
	if loc := b.location(); !strings.Contains(loc, "action=leads.exported") {
		t.Errorf("after filtering the browser is at %s", loc)
	}

	b.do(chromedp.Navigate(a.URL + "/admin/audit"))
	body, name := b.download(`a[href*="/audit/export.csv"]`)
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || !strings.HasSuffix(name, ".csv") || len(rows) < 2 || rows[0][5] != "action" {
		t.Fatalf("download %q (%v):\n%s", name, err, body)
	}
	found := false
	for _, r := range rows[1:] {
		found = found || (r[5] == "signin.succeeded" && r[4] == "sam@callbook.test")
	}
	if !found {
		t.Errorf("the CSV lacks the sign-in:\n%s", body)
	}
}
