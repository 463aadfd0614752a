package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// A mail client's one-click unsubscribe (RFC 8058) works from a server with
// no cookies and no CSRF token, and stops the next follow-up; the page a
// link opens changes nothing until its button is pressed.
func TestUnsubscribe_OneClickPostStopsFollowupsAndGetChangesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		lead, booking := e.mustBookLead("ada@example.com", 0, nil)
		var b models.Booking
		if err := e.store.DB().Where("id = ?", booking).Take(&b).Error; err != nil {
			t.Fatal(err)
		}
		e.clock.Set(b.StartAt.Add(15 * time.Minute))
		if w := e.api(sales, http.MethodPost, "/api/v1/admin/bookings/"+itoa(int(booking))+"/outcome", `{"outcome":"no_show"}`); w.Code != 200 {
			t.Fatalf("no-show: %d %s", w.Code, w.Body.String())
		}
		rebook := func() models.OutboxMessage {
			var m models.OutboxMessage
			if err := e.store.DB().Where("lead_id = ? AND kind = ?", lead, "followup-rebook").Take(&m).Error; err != nil {
				t.Fatalf("no rebook follow-up: %v", err)
			}
			return m
		}
		if m := rebook(); m.Status != models.OutboxPending || !m.NextAttemptAt.Equal(e.clock.Now().Add(30*time.Minute)) {
			t.Fatalf("rebook follow-up %s due %s", m.Status, m.NextAttemptAt)
		}
		if w := e.page(admin, http.MethodGet, "/admin/mail", nil); !strings.Contains(w.Body.String(), "Waiting until ") {
			t.Fatalf("the mail page does not say the follow-up is waiting:\n%s", w.Body.String())
		}
		var l models.Lead
		e.store.DB().Where("id = ?", lead).Take(&l)
		if l.UnsubscribeToken == nil {
			t.Fatal("the lead has no unsubscribe key")
		}
		path := "/u/" + *l.UnsubscribeToken

		w := e.do(http.MethodGet, path, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `<form class="form" method="post" action="`+path+`">`) ||
			!strings.Contains(w.Body.String(), `<button class="btn" type="submit">Unsubscribe</button>`) {
			t.Fatalf("GET: %d %s", w.Code, w.Body.String())
		}
		e.store.DB().Where("id = ?", lead).Take(&l)
		if l.UnsubscribedAt != nil || rebook().Status != models.OutboxPending {
			t.Fatal("GET unsubscribed the lead")
		}

		// A mail provider's server: no cookie, no CSRF token, its own site.
		w = e.do(http.MethodPost, path, strings.NewReader("List-Unsubscribe=One-Click"),
			"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site", "Origin", "https://mail.example.net")
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "You are unsubscribed") {
			t.Fatalf("one-click POST: %d %s", w.Code, w.Body.String())
		}
		if m := rebook(); m.Status != models.OutboxSkipped || m.SkipReason != models.SkipUnsubscribed {
			t.Fatalf("follow-up after unsubscribing: %s %q", m.Status, m.SkipReason)
		}
		if w := e.page(admin, http.MethodGet, "/admin/mail?status=skipped", nil); !strings.Contains(w.Body.String(), "Skipped: the lead unsubscribed") {
			t.Fatalf("the mail page does not say why the follow-up was skipped:\n%s", w.Body.String())
		}
		page := e.page(sales, http.MethodGet, "/admin/leads/"+itoa(int(lead)), nil).Body.String()
		for _, want := range []string{"Follow-up email “rebook” will go on ", "after the missed call",
			"Follow-up email “rebook” was skipped: the lead unsubscribed", "unsubscribed from follow-up emails"} {
			if !strings.Contains(page, want) {
				t.Errorf("the lead's timeline does not say %q", want)
			}
		}
		w = e.api(sales, http.MethodGet, "/api/v1/admin/leads/"+itoa(int(lead)), "")
		got := decode[struct {
			Lead   leadJSON    `json:"lead"`
			Events []eventJSON `json:"events"`
		}](t, w)
		if got.Lead.UnsubscribedAt == nil {
			t.Fatalf("lead JSON: %s", w.Body.String())
		}
		found := false
		for _, ev := range got.Events {
			found = found || ev.Type == models.EventLeadUnsubscribed
		}
		if !found {
			t.Fatal("no lead.unsubscribed event")
		}
		if w := e.do(http.MethodPost, path, strings.NewReader("List-Unsubscribe=One-Click"),
			"Content-Type", "application/x-www-form-urlencoded"); w.Code != http.StatusOK {
			t.Fatalf("a second POST: %d", w.Code)
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/leads/export.csv", "")
		if lines := strings.Split(w.Body.String(), "\n"); !strings.Contains(lines[0], ",unsubscribed_at,") ||
			!strings.Contains(lines[1], got.Lead.UpdatedAt[:10]) {
			t.Fatalf("CSV: %s", w.Body.String())
		}

		if w := e.do(http.MethodPost, "/u/not-a-key", strings.NewReader("List-Unsubscribe=One-Click"),
			"Content-Type", "application/x-www-form-urlencoded"); w.Code != http.StatusNotFound {
			t.Fatalf("unknown key: %d", w.Code)
		}
		// The way through is for this link only: other forms posted from
		// another site are still refused.
		if w := e.do(http.MethodPost, "/roles/backend-engineer/book", strings.NewReader("name=x"),
			"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site"); w.Code != http.StatusForbidden {
			t.Fatalf("cross-site booking form: %d", w.Code)
		}
	})
}

// A call the host missed: closed as canceled, no follow-up (a no-show's,
// recorded by mistake before, is skipped), and the visitor's apology with
// a link to book again.
func TestOutcome_HostNoShowApologisesInsteadOfFollowingUp(t *testing.T) {
	e := newTestServer(t, "sqlite")
	sales := e.mustStaff("sales@example.com", models.RoleSales)
	lead, booking := e.mustBookLead("ada@example.com", 0, nil)
	var b models.Booking
	e.store.DB().Where("id = ?", booking).Take(&b)
	e.clock.Set(b.StartAt.Add(15 * time.Minute))
	path := "/api/v1/admin/bookings/" + itoa(int(booking)) + "/outcome"
	if w := e.api(sales, http.MethodPost, path, `{"outcome":"no_show"}`); w.Code != 200 {
		t.Fatalf("no-show: %d %s", w.Code, w.Body.String())
	}
	w := e.api(sales, http.MethodPost, path, `{"outcome":"host_no_show"}`)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"canceled"`) {
		t.Fatalf("host no-show: %d %s", w.Code, w.Body.String())
	}
	var rows []models.OutboxMessage
	e.store.DB().Where("lead_id = ?", lead).Order("id").Find(&rows)
	apologies := 0
	for _, m := range rows {
		switch {
		case m.Kind == models.MailHostNoShow:
			apologies++
			if m.ToAddr != "ada@example.com" || m.Status != models.OutboxPending {
				t.Errorf("apology to %s, %s", m.ToAddr, m.Status)
			}
		case strings.HasPrefix(m.Kind, models.MailFollowupPrefix) && (m.Status != models.OutboxSkipped || m.SkipReason != models.SkipOutcomeChanged):
			t.Errorf("follow-up %s is %s (%q) after the host missed the call", m.Kind, m.Status, m.SkipReason)
		}
	}
	if apologies != 1 {
		t.Fatalf("%d apologies, want 1", apologies)
	}
	page := e.page(sales, http.MethodGet, "/admin/leads/"+itoa(int(lead)), nil).Body.String()
	if !strings.Contains(page, "recorded that the host missed the call on") {
		t.Errorf("the timeline does not tell the host's no-show")
	}
}

// The unsubscribe page speaks the lead's language, the language of the
// emails it stops; ?lang= still switches it.
func TestUnsubscribe_PageInTheLeadsLanguage(t *testing.T) {
	e := newTestServer(t, "sqlite")
	lead, _ := e.mustBookLead("ada@example.com", 0, func(b map[string]any) { b["language"] = "de" })
	const token = "unsubscribe-key-of-ada-unsubscribe-key-of-ada"
	if err := e.store.DB().Exec("UPDATE leads SET unsubscribe_token = ? WHERE id = ?", token, lead).Error; err != nil {
		t.Fatal(err)
	}
	w := e.do(http.MethodGet, "/u/"+token, nil, "Accept-Language", "en")
	if body := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(body, `<html lang="de"`) ||
		!strings.Contains(body, "Keine Folge-E-Mails mehr erhalten?") {
		t.Fatalf("the page for a German lead: %d\n%s", w.Code, body)
	}
	if w := e.do(http.MethodGet, "/u/"+token+"?lang=es", nil); !strings.Contains(w.Body.String(), "¿Dejar de recibir correos de seguimiento?") {
		t.Fatal("?lang=es does not switch the page")
	}
	w = e.postForm("/u/"+token, url.Values{"List-Unsubscribe": {"One-Click"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Sie sind abgemeldet") {
		t.Fatalf("after unsubscribing: %d\n%s", w.Code, w.Body.String())
	}
}
