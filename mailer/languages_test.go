package mailer_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/scheduler"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/web"
)

// germanBrowser is what a browser set to German sends.
const germanBrowser = "de-DE,de;q=0.9,en;q=0.5"

// TestGermanVisitor_EveryEmailAndInviteInGerman: a visitor whose browser
// prefers German gets the booking page in German, books, and receives the
// confirmation (with a German date) and invite in German through a real
// SMTP conversation; a staff member's reschedule and a reminder the
// scheduler sends later are German too, though neither request says so.
func TestGermanVisitor_EveryEmailAndInviteInGerman(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	content, err := handlers.LoadContent(web.Content())
	if err != nil {
		t.Fatal(err)
	}
	h, err := handlers.New(handlers.Options{Store: s, Content: content, Mail: o.Renderer(), Clock: clock.Now,
		Log: slog.New(slog.DiscardHandler), BaseURL: "https://book.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
		var req *http.Request
		if form != nil {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	find := func(s, pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no %s in:\n%s", pattern, s)
		}
		return m[1]
	}

	// The booking page, in German because the browser prefers it.
	page := send(http.MethodGet, "/roles/software-engineer/book?tz=Europe/Berlin", nil, "Accept-Language", germanBrowser).Body.String()
	for _, want := range []string{`<html lang="de">`, "Kostenloses Erstgespräch buchen", "Freie Termine am Montag, 30. November 2026",
		"<span>Mo</span><span>Di</span>"} {
		if !strings.Contains(page, want) {
			t.Fatalf("booking page lacks %q:\n%s", want, page)
		}
	}
	start := html.UnescapeString(find(page, `name="start" value="([^"]+)"`))
	form := url.Values{"name": {"Erika Mustermann"}, "email": {"erika@example.de"}, "target_title": {"Software Engineer"},
		"start": {start}, "timezone": {"Europe/Berlin"}, "consent": {"yes"}, "form_key": {find(page, `name="form_key" value="([^"]+)"`)}}
	w := send(http.MethodPost, "/roles/software-engineer/book", form, "Accept-Language", germanBrowser)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("book: %d %s", w.Code, w.Body.String())
	}
	// The confirmation page keeps the booking's language, whatever the
	// browser that opens it prefers.
	confirm := send(http.MethodGet, w.Header().Get("Location"), nil, "Accept-Language", "en-US").Body.String()
	if !strings.Contains(confirm, `<html lang="de">`) || !strings.Contains(confirm, "Ihr Erstgespräch ist bestätigt") ||
		!strings.Contains(confirm, "Montag, 30. November 2026") {
		t.Fatalf("confirmation page not in German:\n%s", confirm)
	}

	var b models.Booking
	if err := s.DB().Take(&b).Error; err != nil {
		t.Fatal(err)
	}
	if b.Language != "de" {
		t.Fatalf("booking language %q", b.Language)
	}
	mustDrain(t, o)
	conf := byKind(t, srv.Messages(), models.MailConfirmation, "erika@example.de")
	if got := conf.Subject(t); got != "Ihr Erstgespräch ist gebucht: Mo., 30. Nov., 17:00 (CET)" {
		t.Errorf("confirmation subject %q", got)
	}
	text, _ := conf.Part("text/plain")
	htmlPart, _ := conf.Part("text/html")
	ics, _ := conf.Part("text/calendar")
	for _, want := range []string{"Guten Tag Erika Mustermann,", "Wann:  Montag, 30. November 2026, 17:00 – 17:30 (Europe/Berlin, CET)",
		"Dauer: 30 Minuten", "Verschieben oder absagen: https://book.example.com/bookings/"} {
		if !strings.Contains(text.Body, want) {
			t.Errorf("confirmation text lacks %q:\n%s", want, text.Body)
		}
	}
	if !strings.Contains(htmlPart.Body, `<html lang="de">`) || !strings.Contains(htmlPart.Body, "Ihr Gespräch ist gebucht") ||
		!strings.Contains(htmlPart.Body, "Montag, 30. November 2026, 17:00") {
		t.Errorf("confirmation HTML not in German:\n%s", htmlPart.Body)
	}
	if !strings.Contains(icsLines(ics.Body), "SUMMARY:Erstgespräch mit Callbook: Software Engineer") ||
		!strings.Contains(icsLines(ics.Body), "Ihr Erstgespräch mit ") {
		t.Errorf("invite not in German:\n%s", ics.Body)
	}
	// The host's notice stays English.
	for _, m := range srv.Messages() {
		if pm := parseMail(t, m.Data); pm.Header.Get("X-Callbook-Kind") == models.MailHostNotice &&
			!strings.HasPrefix(pm.Subject(t), "New discovery call: ") {
			t.Errorf("host notice not in English: %q", pm.Subject(t))
		}
	}

	// A staff member moves the call: the visitor's email stays German.
	later := freeSlots(t, s, 40)[30].Start
	if _, err := s.RescheduleBookingByID(context.Background(), b.ID, later, models.ActorUser(&models.User{Name: "Ana", Email: "ana@example.com"})); err != nil {
		t.Fatal(err)
	}
	mustDrain(t, o)
	moved := byKind(t, srv.Messages(), models.MailReschedule, "erika@example.de")
	text, _ = moved.Part("text/plain")
	if !strings.HasPrefix(moved.Subject(t), "Ihr Erstgespräch wurde verschoben auf ") ||
		!strings.Contains(text.Body, "(Bisher: Montag, 30. November 2026, 17:00 – 17:30 (Europe/Berlin, CET).)") {
		t.Errorf("staff reschedule email not in German: %q\n%s", moved.Subject(t), text.Body)
	}

	// The scheduler's reminder, a day before the new time, is German too.
	sc, err := scheduler.New(scheduler.Options{Store: s, Outbox: o, Tick: time.Second, Log: slog.New(slog.DiscardHandler),
		Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(later.Add(-23 * time.Hour))
	if n, err := sc.RunOnce(context.Background(), scheduler.JobReminders); err != nil || n != 1 {
		t.Fatalf("reminders: %d %v", n, err)
	}
	mustDrain(t, o)
	rem := byKind(t, srv.Messages(), "reminder-24h", "erika@example.de")
	text, _ = rem.Part("text/plain")
	if rem.Subject(t) != "Erinnerung: Ihr Erstgespräch beginnt in 24 Stunden" || !strings.Contains(text.Body, "Zur Erinnerung") {
		t.Errorf("reminder not in German: %q\n%s", rem.Subject(t), text.Body)
	}
}

// icsLines is a calendar file as its logical lines, joined by newlines.
func icsLines(s string) string {
	return strings.Join(unfold(strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")), "\n")
}

// TestRender_VisitorEmailsInTheBookingsLanguage: each visitor email kind,
// text, HTML and invite, is written in the booking's language with dates
// as that language writes them; the host's notice stays English.
func TestRender_VisitorEmailsInTheBookingsLanguage(t *testing.T) {
	r := mustRenderer(t)
	prev := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang, kind, subject, text, html, summary string
	}{
		{"es", models.MailConfirmation, "Su llamada de orientación está reservada: mar, 1 dic, 15:00 (CET)",
			"Cuándo:   martes, 1 de diciembre de 2026, 15:00 – 15:30 (Europe/Berlin, CET)", `<html lang="es">`,
			"SUMMARY:Llamada de orientación con Callbook: Backend Engineer"},
		{"es", models.MailReschedule, "Su llamada de orientación ha cambiado al mar, 1 dic, 15:00 (CET)",
			"(Antes era el lunes, 30 de noviembre de 2026, 15:00 – 15:30 (Europe/Berlin, CET).)", "Su llamada ha cambiado de hora", ""},
		{"es", models.MailCancellation, "Su llamada de orientación del mar, 1 dic, 15:00 (CET) se ha cancelado",
			"Motivo indicado: Ya no me viene bien", "Su llamada se ha cancelado", "Esta llamada se ha cancelado."},
		{"es", "reminder-1h", "Recordatorio: su llamada de orientación es dentro de 1 hora",
			"Duración: 30 minutos", "Unirse a la videollamada", ""},
		{"de", models.MailCancellation, "Ihr Erstgespräch am Di., 1. Dez., 15:00 (CET) ist abgesagt",
			"Angegebener Grund: Ya no me viene bien", "Ihr Gespräch ist abgesagt", "Dieses Gespräch wurde abgesagt."},
		{"de", "reminder-24h", "Erinnerung: Ihr Erstgespräch beginnt in 24 Stunden",
			"Wann:  Dienstag, 1. Dezember 2026, 15:00 – 15:30 (Europe/Berlin, CET)", "Am Videogespräch teilnehmen", ""},
		{"de", models.MailBookingLink, "Ihr Buchungslink: Folgegespräch",
			"hat Ihnen einen persönlichen Link geschickt, mit dem Sie dieses Gespräch buchen können: Folgegespräch.\n\nWählen Sie einen Termin, der Ihnen passt; Ihre Angaben sind schon eingetragen:\nhttps://book.example.com/l/link-token",
			`href="https://book.example.com/l/link-token"`, ""},
		{"es", models.MailHostNotice, "New discovery call: Ada Lovelace, Tue 1 Dec, 09:00 (EST)", "", `<html lang="en">`,
			"SUMMARY:Discovery call: Ada Lovelace (Backend Engineer)"},
	} {
		d := sampleMail(tc.kind)
		d.Language = tc.lang
		d.Meeting = &models.Meeting{Kind: models.MeetingVideo, URL: "https://meet.example.com/x"}
		d.PreviousStart = &prev
		d.Reason = "Ya no me viene bien"
		if tc.kind == models.MailBookingLink {
			d.CallTitle, d.RebookToken = "Folgegespräch", "link-token"
		}
		out := mustRender(t, r, d)
		if out.Subject != tc.subject {
			t.Errorf("%s %s: subject %q, want %q", tc.lang, tc.kind, out.Subject, tc.subject)
		}
		if !strings.Contains(out.Text, tc.text) {
			t.Errorf("%s %s: text lacks %q:\n%s", tc.lang, tc.kind, tc.text, out.Text)
		}
		if !strings.Contains(out.HTML, tc.html) {
			t.Errorf("%s %s: HTML lacks %q", tc.lang, tc.kind, tc.html)
		}
		if tc.summary != "" && !strings.Contains(icsLines(string(out.ICS)), tc.summary) {
			t.Errorf("%s %s: invite lacks %q:\n%s", tc.lang, tc.kind, tc.summary, out.ICS)
		}
	}
}
