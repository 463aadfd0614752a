package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBooking_InGermanAndSpanishOnAPhone books the Backend Engineer call
// at phone size in German and in Spanish, chosen with the language switch,
// with scripts on: every step is in the visitor's language (the picker's
// days and the times the script fetches included), the form's problems
// too, and axe finds nothing blocking on any step.
func TestBooking_InGermanAndSpanishOnAPhone(t *testing.T) {
	axe := loadAxe(t)
	a := startApp(t)
	for _, tc := range []struct {
		lang, zone, switchName, email string
		hero, questions, legend       string
		problem, confirmed, weekday   string
	}{
		{"de", "Europe/Berlin", "Deutsch", "erika@example.de",
			"Erstgespräch buchen", "Ein paar Fragen", "Freie Termine am ",
			"Bitte setzen Sie das Häkchen", "Ihr Erstgespräch ist bestätigt", "mo"},
		{"es", "Europe/Madrid", "Español", "lucia@example.es",
			"Reservar una llamada de orientación", "Unas preguntas", "Horas libres el ",
			"Marque la casilla", "Su llamada de orientación está confirmada", "lun"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := newBrowser(t)
			b.setViewport(phoneWidth, screenHeight(phoneWidth))
			// The visitor arrives in English and picks the language with
			// the switch, a plain link.
			b.do(timezone(tc.zone),
				chromedp.Navigate(a.URL+"/roles/backend-engineer"),
				chromedp.WaitVisible(chromedp.CSS(heroCTA)),
				chromedp.Click(chromedp.CSS(fmt.Sprintf(`.lang-switch a[lang=%q]`, tc.lang))),
				chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`html[lang=%q] %s`, tc.lang, heroCTA))),
			)
			if got := b.text(heroCTA); got != tc.hero {
				t.Fatalf("hero call to action %q, want %q", got, tc.hero)
			}
			b.axeCheck(axe, tc.lang+" role page")

			b.do(chromedp.Click(chromedp.CSS(heroCTA)),
				chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`[data-questions] input[name="tz"][value=%q]`, tc.zone))), loaded())
			if got := b.text("#step-questions"); !strings.Contains(got, tc.questions) {
				t.Fatalf("questions step %q, want %q", got, tc.questions)
			}
			b.axeCheck(axe, tc.lang+" questions")
			b.do(chromedp.SetValue(chromedp.CSS("#q-experience"), "1-2"),
				chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
				chromedp.WaitReady(chromedp.CSS(tzKnown)), loaded())
			// The heads are styled in capitals.
			if got := b.text(".cal-head"); !strings.HasPrefix(strings.ToLower(strings.TrimSpace(got)), tc.weekday) {
				t.Errorf("the picker's week starts %q, want %s (Monday)", got, tc.weekday)
			}
			b.axeCheck(axe, tc.lang+" times")

			// Another day, fetched by the script: its legend is in the
			// page's language.
			day := b.attr(otherDay, "data-date")
			b.do(chromedp.Click(chromedp.CSS(otherDay)),
				chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.calendar a.is-selected[data-date=%q]`, day))),
				chromedp.WaitNotPresent(chromedp.CSS(`[data-times][aria-busy]`)))
			if got := b.text("[data-times-legend]"); !strings.HasPrefix(got, tc.legend) {
				t.Errorf("legend after switching day %q, want %q…", got, tc.legend)
			}

			// Without the consent the form comes back with the problem in
			// the visitor's language.
			b.do(chromedp.Click(chromedp.CSS(`.time-grid label span`)),
				chromedp.SendKeys(chromedp.CSS("#name"), "Visitor "+tc.lang),
				chromedp.SendKeys(chromedp.CSS("#email"), tc.email),
				chromedp.Click(chromedp.CSS(submitButton)),
				chromedp.WaitVisible(chromedp.CSS(errorSummary)))
			if got := b.text(errorSummary); !strings.Contains(got, tc.problem) {
				t.Errorf("error summary %q, want %q", got, tc.problem)
			}
			b.axeCheck(axe, tc.lang+" form with a problem")

			b.do(chromedp.Click(chromedp.CSS("#consent")),
				chromedp.Click(chromedp.CSS(submitButton)),
				chromedp.WaitVisible(chromedp.CSS(".ticket")))
			if got := b.text("h1"); got != tc.confirmed {
				t.Errorf("confirmation heading %q, want %q", got, tc.confirmed)
			}
			b.axeCheck(axe, tc.lang+" confirmation")
			if lead := a.leadByEmail(t, tc.email); lead.Language != tc.lang {
				t.Errorf("lead language %q, want %q", lead.Language, tc.lang)
			}
		})
	}
}
