package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/models"
)

// staffPassword is long and uncommon enough for the password rules.
const staffPassword = "plum kettle orbit 7 lantern"

// mustAdmin creates a staff admin who can sign in with staffPassword.
func (a *app) mustAdmin(t *testing.T, email string) *models.User {
	t.Helper()
	return a.mustStaff(t, email, models.RoleAdmin)
}

// mustStaff creates a staff user of role, named Sam Sales, who can sign in
// with staffPassword.
func (a *app) mustStaff(t *testing.T, email, role string) *models.User {
	t.Helper()
	u, err := a.Store.CreateUser(context.Background(), models.NewUser{
		Email: email, Name: "Sam Sales", Role: role, Password: staffPassword,
	})
	if err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	return u
}

// signIn opens a staff page, lands on the sign-in form and signs in.
func (b *browser) signIn(baseURL, page, email string) {
	b.t.Helper()
	b.do(chromedp.Navigate(baseURL+page),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), staffPassword),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS("#password")),
		loaded(),
	)
}

// TestStaff_SignInFindTheNewLeadChangeStatusAndAddANote is a salesperson's
// morning: sign in, see the visitor who just booked in the lead list, open
// them, mark them contacted and write a note. The staff pages pass axe too.
func TestStaff_SignInFindTheNewLeadChangeStatusAndAddANote(t *testing.T) {
	a := startApp(t)
	axe := loadAxe(t)
	a.mustAdmin(t, "sam@callbook.test")
	a.bookViaAPIWith(t, map[string]any{
		"name": "Katherine Johnson", "email": "katherine@example.com", "timezone": "America/Chicago",
		"target_title": "Software Engineer", "role_slug": "software-engineer",
		"utm":     map[string]string{"source": "linkedin", "medium": "social"},
		"answers": map[string]any{}, // the Software Engineer page asks nothing
	})
	lead := a.leadByEmail(t, "katherine@example.com")

	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.do(chromedp.Navigate(a.URL+"/admin/login"), chromedp.WaitVisible(chromedp.CSS("#password")))
	b.axeCheck(axe, "staff sign-in")

	// A staff page sends a stranger to sign in, and back after.
	b.signIn(a.URL, "/admin/leads", "sam@callbook.test")
	if loc := b.location(); !strings.HasSuffix(loc, "/admin/leads") {
		t.Fatalf("after sign-in the browser is at %s, want the lead list", loc)
	}
	row := fmt.Sprintf(`a[href="/admin/leads/%d"]`, lead.ID)
	b.do(chromedp.WaitVisible(chromedp.CSS(row)))
	if got := b.text("table"); !strings.Contains(got, "Katherine Johnson") || !strings.Contains(got, "Software Engineer") {
		t.Errorf("lead list lacks the new lead:\n%s", got)
	}
	b.axeCheck(axe, "lead list")

	b.do(chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS("#status")))
	if got := b.text("main"); !strings.Contains(got, "linkedin") {
		t.Error("lead page does not show the UTM source")
	}
	b.axeCheck(axe, "lead page")

	b.do(chromedp.SetValue(chromedp.CSS("#status"), "contacted"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/admin/leads/%d"] button[type="submit"]`, lead.ID))),
		chromedp.WaitVisible(chromedp.CSS(".alert-ok")),
	)
	if got := a.leadByEmail(t, "katherine@example.com"); got.Status != "contacted" {
		t.Errorf("status after saving: %q, want contacted", got.Status)
	}

	note := "Called, she starts the Go course on Monday."
	b.do(chromedp.SendKeys(chromedp.CSS("#body"), note),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/admin/leads/%d/notes"] button[type="submit"]`, lead.ID))),
		chromedp.WaitVisible(chromedp.CSS(".note-body")),
	)
	if got := b.text(".note-body"); got != note {
		t.Errorf("note shown as %q", got)
	}
	var notes []models.Note
	a.Store.ReadDB().Where("lead_id = ?", lead.ID).Find(&notes)
	if len(notes) != 1 || notes[0].Body != note {
		t.Errorf("notes in the database: %+v", notes)
	}
}

// exportColumns is the CSV header of docs/API.md, CSV export.
var exportColumns = []string{"id", "created_at", "name", "email", "phone", "current_title", "target_title",
	"recommended_title", "role_slug", "status", "owner_email", "bookings_count", "next_call_at",
	"last_call_at", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer"}

// exportControl is the export page's download link or button.
const exportControl = `a[href*="export.csv"], form[action*="export"] button[type="submit"]`

// TestStaff_ExportDownloadsTheLeadsCSV signs an admin in on the export page
// and downloads the leads CSV as a browser does: a file with the
// contract's columns and the visitor who booked.
func TestStaff_ExportDownloadsTheLeadsCSV(t *testing.T) {
	a := startApp(t)
	a.mustAdmin(t, "sam@callbook.test")
	a.bookViaAPIWith(t, map[string]any{
		"name": "Dorothy Vaughan", "email": "dorothy@example.com", "timezone": "America/Denver",
		"utm": map[string]string{"source": "podcast"},
	})

	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.signIn(a.URL, "/admin/export", "sam@callbook.test")
	b.do(chromedp.WaitVisible(chromedp.CSS(exportControl)))
	body, name := b.download(exportControl)
	if !strings.HasSuffix(name, ".csv") {
		t.Errorf("download named %q, want a .csv file", name)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("export is not a CSV with a lead (%v):\n%s", err, body)
	}
	// The contract's columns come first; later ones may follow, with the
	// answers to the role page's questions always last.
	if len(rows[0]) < len(exportColumns) || !slices.Equal(rows[0][:len(exportColumns)], exportColumns) || rows[0][len(rows[0])-1] != "answers" {
		t.Errorf("header %v, want %v first and answers last", rows[0], exportColumns)
	}
	firstSource := slices.Index(rows[0], "first_utm_source")
	found := false
	for _, r := range rows[1:] {
		if len(r) == len(rows[0]) && r[3] == "dorothy@example.com" && r[14] == "podcast" && firstSource > 0 && r[firstSource] == "podcast" && r[len(r)-1] == `{"experience":"1-2"}` {
			found = true
		}
	}
	if !found {
		t.Errorf("the new lead is not in the export:\n%s", body)
	}
}

// download clicks css, waits for the download it starts to finish, and
// returns the file's content and suggested name.
func (b *browser) download(css string) ([]byte, string) {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
	}); err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
	begun := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	b.do(chromedp.Click(chromedp.CSS(css)))
	var name string
	for ev, err := range begun {
		if err != nil {
			b.failed(fmt.Errorf("no download began: %w", err))
		}
		name = ev.SuggestedFilename
		break
	}
	for ev, err := range progress {
		if err != nil {
			b.failed(fmt.Errorf("download did not finish: %w", err))
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			body, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				b.t.Fatalf("read download: %v", err)
			}
			return body, name
		case cdpbrowser.DownloadProgressStateCanceled:
			b.t.Fatalf("download canceled")
		}
	}
	b.t.Fatal("download events ended")
	return nil, ""
}
