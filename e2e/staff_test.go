package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/models"
)

// staffPassword is long and uncommon enough for the password rules.
const staffPassword = "plum kettle orbit 7 lantern"

// mustAdmin creates a staff admin who can sign in with staffPassword.
func (a *app) mustAdmin(t *testing.T, email string) *models.User {
	t.Helper()
	u, err := a.Store.CreateUser(context.Background(), models.NewUser{
		Email: email, Name: "Sam Sales", Role: models.RoleAdmin, Password: staffPassword,
	})
	if err != nil {
		t.Fatalf("create admin: %v", err)
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
	)
}

// TestStaff_SignInFindTheNewLeadChangeStatusAndAddANote is a salesperson's
// morning: sign in, see the visitor who just booked in the lead list, open
// them, mark them contacted and write a note. The staff pages pass axe too.
func TestStaff_SignInFindTheNewLeadChangeStatusAndAddANote(t *testing.T) {
	a := startApp(t)
	if status(t, a.URL+"/admin/login") == http.StatusNotFound {
		t.Skip("no staff area yet (GET /admin/login is 404)")
	}
	axe := mustAxe(t)
	a.mustAdmin(t, "sam@callbook.test")
	a.bookViaAPIWith(t, map[string]any{
		"name": "Katherine Johnson", "email": "katherine@example.com", "timezone": "America/Chicago",
		"target_title": "Software Engineer", "role_slug": "software-engineer",
		"utm": map[string]string{"source": "linkedin", "medium": "social"},
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
