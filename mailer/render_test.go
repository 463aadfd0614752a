package mailer_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
)

const testBase = "https://book.example.com"

func mustRenderer(t testing.TB) *mailer.Renderer {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	r, err := mailer.NewRenderer(mailer.RendererOptions{
		BaseURL: testBase + "/", From: "Callbook <no-reply@callbook.test>", Location: ny,
		Token: func(uid string) string { return "tok-" + uid },
		Now:   func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatalf("renderer: %v", err)
	}
	return r
}

// sampleMail is a 30-minute call on Tuesday 1 December 2026 at 15:00 Berlin.
func sampleMail(kind string) models.MailData {
	start := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	return models.MailData{
		Kind: kind, Change: "booked", BookingID: 7, BookingUID: "uid7", Sequence: 0,
		Start: start, End: start.Add(30 * time.Minute), Timezone: "Europe/Berlin",
		LeadID: 12, Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+1 555 0100",
		CurrentTitle: "Data Analyst", TargetTitle: "Backend Engineer", RoleSlug: "backend-engineer",
		Message: "Keen to talk.", HostName: "Discovery team", HostEmail: "team@callbook.test",
	}
}

func mustRender(t *testing.T, r *mailer.Renderer, d models.MailData) mailer.Rendered {
	t.Helper()
	out, err := r.Render(d, t0)
	if err != nil {
		t.Fatalf("render %s: %v", d.Kind, err)
	}
	return out
}

func TestRender_EveryBookingEmailShowsTheVisitorsTimeAndTheManageLink(t *testing.T) {
	r := mustRenderer(t)
	const when = "Tuesday, 1 December 2026, 15:00 – 15:30 (Europe/Berlin, CET)"
	const manage = testBase + "/bookings/tok-uid7"
	prev := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		kind, change, method string
	}{
		{models.MailConfirmation, "", mailer.MethodRequest},
		{models.MailReschedule, "", mailer.MethodRequest},
		{models.MailCancellation, "", mailer.MethodCancel},
		{"reminder-24h", "", ""},
		{"reminder-1h", "", ""},
		{models.MailHostNotice, "booked", mailer.MethodRequest},
		{models.MailHostNotice, "rescheduled", mailer.MethodRequest},
		{models.MailHostNotice, "canceled", mailer.MethodCancel},
	}
	for _, tt := range tests {
		t.Run(tt.kind+tt.change, func(t *testing.T) {
			d := sampleMail(tt.kind)
			d.Change, d.PreviousStart, d.Reason = tt.change, &prev, "Found a job already"
			out := mustRender(t, r, d)
			if out.Subject == "" || strings.ContainsAny(out.Subject, "\r\n") {
				t.Errorf("subject %q", out.Subject)
			}
			for name, body := range map[string]string{"text": out.Text, "HTML": out.HTML} {
				if !strings.Contains(body, when) || !strings.Contains(body, manage) {
					t.Errorf("%s part lacks %q or %q:\n%s", name, when, manage, body)
				}
				if strings.Contains(body, "<no value>") || strings.Contains(body, "{{") {
					t.Errorf("%s part has template leftovers:\n%s", name, body)
				}
			}
			checkHTMLForMailClients(t, out.HTML)
			if out.ICSMethod != tt.method || (tt.method == "") != (out.ICS == nil) {
				t.Errorf("invite method %q (file %v), want %q", out.ICSMethod, out.ICS != nil, tt.method)
			}
		})
	}
}

// checkHTMLForMailClients asserts what common mail clients need: no
// scripts or style sheets, a viewport, table layout, inline styles.
func checkHTMLForMailClients(t *testing.T, html string) {
	t.Helper()
	lower := strings.ToLower(html)
	for _, bad := range []string{"<script", "<style", "<link", "javascript:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	for _, need := range []string{`<meta name="viewport"`, `<table role="presentation"`, `max-width:600px`} {
		if !strings.Contains(html, need) {
			t.Errorf("HTML lacks %q", need)
		}
	}
}

func TestRender_HostNoticeHasTheLeadAndWhatChanged(t *testing.T) {
	r := mustRenderer(t)
	d := sampleMail(models.MailHostNotice)
	prev := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	d.Change, d.PreviousStart = "rescheduled", &prev
	out := mustRender(t, r, d)
	if !strings.HasPrefix(out.Subject, "Call moved: Ada Lovelace") {
		t.Errorf("subject %q", out.Subject)
	}
	for _, want := range []string{
		"Ada Lovelace", "ada@example.com", "+1 555 0100", "Data Analyst", "Backend Engineer",
		testBase + "/roles/backend-engineer", "Keen to talk.", testBase + "/admin/leads/12",
		"Tuesday, 1 December 2026, 09:00 – 09:30 (America/New York, EST)", // the business zone, for the host
		"Monday, 30 November 2026, 09:00 – 09:30 (America/New York, EST)", // the old time
	} {
		if !strings.Contains(out.Text, want) || !strings.Contains(html.UnescapeString(out.HTML), want) {
			t.Errorf("host notice lacks %q", want)
		}
	}
	d.Change, d.Reason = "canceled", "Found a job already"
	if out := mustRender(t, r, d); !strings.HasPrefix(out.Subject, "Call canceled") || !strings.Contains(out.Text, "Found a job already") {
		t.Errorf("canceled notice: %q\n%s", out.Subject, out.Text)
	}
}

func TestRender_DigestListsTodaysCallsAndYesterdaysLeads(t *testing.T) {
	r := mustRenderer(t)
	out := mustRender(t, r, models.MailData{Kind: models.MailDigest, Digest: &models.DigestData{
		Date: "2026-12-01",
		TodayCalls: []models.DigestCall{
			{Start: time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC), LeadID: 3, Name: "Grace Hopper", TargetTitle: "SRE", HostName: "Sam"},
		},
		NewLeads: []models.DigestLead{{LeadID: 4, Name: "Alan Turing", TargetTitle: "ML Engineer", RoleSlug: "ml-engineer"}},
	}})
	if out.Subject != "Callbook digest for Tuesday, 1 December 2026: 1 call today, 1 new lead" {
		t.Errorf("subject %q", out.Subject)
	}
	for _, want := range []string{"09:00", "Grace Hopper", "SRE", testBase + "/admin/leads/3", "Alan Turing", testBase + "/admin/leads/4", "America/New York"} {
		if !strings.Contains(out.Text, want) || !strings.Contains(out.HTML, want) {
			t.Errorf("digest lacks %q", want)
		}
	}
	if out.ICS != nil {
		t.Error("digest carries an invite")
	}
}

func TestRender_EscapesVisitorInputInHTML(t *testing.T) {
	r := mustRenderer(t)
	d := sampleMail(models.MailHostNotice)
	d.Name, d.Message = `<script>alert("x")</script>`, `<img src=x onerror=alert(1)>`
	out := mustRender(t, r, d)
	if strings.Contains(out.HTML, "<script>alert") || strings.Contains(out.HTML, "<img src=x") {
		t.Fatalf("visitor input reached the HTML unescaped:\n%s", out.HTML)
	}
	if !strings.Contains(out.HTML, "&lt;script&gt;") {
		t.Fatal("escaped name missing")
	}
}

func TestRender_NamesTheZoneInForceAcrossDaylightSaving(t *testing.T) {
	r := mustRenderer(t)
	tests := []struct {
		start time.Time
		want  string
	}{
		{time.Date(2026, 10, 30, 13, 0, 0, 0, time.UTC), "Friday, 30 October 2026, 09:00 – 09:30 (America/New York, EDT)"},
		{time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC), "Monday, 2 November 2026, 09:00 – 09:30 (America/New York, EST)"},
	}
	for _, tt := range tests {
		d := sampleMail(models.MailConfirmation)
		d.Timezone, d.Start, d.End = "America/New_York", tt.start, tt.start.Add(30*time.Minute)
		if out := mustRender(t, r, d); !strings.Contains(out.Text, tt.want) {
			t.Errorf("want %q in:\n%s", tt.want, out.Text)
		}
	}
}

func TestRender_ReminderSaysHowSoonTheCallIs(t *testing.T) {
	r := mustRenderer(t)
	for kind, want := range map[string]string{"reminder-24h": "in 24 hours", "reminder-1h": "in 1 hour", "reminder-90m": "in 1 hour 30 minutes"} {
		if out := mustRender(t, r, sampleMail(kind)); !strings.HasSuffix(out.Subject, want) || !strings.Contains(out.Text, want) {
			t.Errorf("%s: subject %q", kind, out.Subject)
		}
	}
}

func TestRender_UnknownKindIsAnError(t *testing.T) {
	if _, err := mustRenderer(t).Render(sampleMail("newsletter"), t0); err == nil {
		t.Fatal("rendered an unknown kind")
	}
}

// A collective call's notice names every host who takes it.
func TestRender_CollectiveNoticeNamesEveryHost(t *testing.T) {
	r := mustRenderer(t)
	d := sampleMail(models.MailHostNotice)
	d.Hosts = []models.MailHost{{Name: "Ana", Email: "ana@callbook.test"}, {Name: "Ben", Email: "ben@callbook.test"}, {Name: "Cy", Email: "cy@callbook.test"}}
	out := mustRender(t, r, d)
	for part, body := range map[string]string{"text": out.Text, "HTML": out.HTML} {
		if !strings.Contains(body, "with Ana, Ben and Cy.") {
			t.Errorf("%s part does not name every host:\n%s", part, body)
		}
	}
	d.Hosts = nil
	if out := mustRender(t, r, d); !strings.Contains(out.Text, "with "+d.HostName+".") {
		t.Errorf("a one-host notice:\n%s", out.Text)
	}
}
