package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// languageContent is a folder of two role pages: "spanish-first" declares
// language: es, "plain" declares none and has a German version.
func languageContent(t *testing.T) *Content {
	t.Helper()
	role := func(slug, title, extra string) []byte {
		return []byte("slug: " + slug + "\ntitle: " + title + "\ntagline: " + title + " tagline.\nmonthly_openings: 100\n" +
			"pay: {low_k: 100, high_k: 200}\n" + extra)
	}
	c, err := LoadContent(fstest.MapFS{
		"spanish-first.yaml": {Data: role("spanish-first", "Ingeniera de datos", "language: es\n")},
		"plain.yaml":         {Data: role("plain", "Platform Engineer", "")},
		"plain.de.yaml":      {Data: role("plain", "Plattform-Ingenieurin", "")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// htmlLang is a page's <html lang>.
func htmlLang(t *testing.T, body string) string {
	t.Helper()
	return regexpFind(t, body, `<html lang="([a-z]+)"`)
}

// TestLanguage_ChosenInOrder: ?lang= (kept in a cookie) beats the role
// file's language:, which beats Accept-Language, which beats the default;
// an unsupported Accept-Language or ?lang= falls through to the next rule.
func TestLanguage_ChosenInOrder(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.Content = languageContent(t) })
	for _, tc := range []struct {
		name, path, accept, cookie, want string
	}{
		{"nothing says: the default", "/roles/plain", "", "", "en"},
		{"Accept-Language", "/roles/plain", "de-DE,de;q=0.9,en;q=0.5", "", "de"},
		{"Accept-Language, second choice", "/roles/plain", "fr-FR,es;q=0.8", "", "es"},
		{"unsupported Accept-Language: the default", "/roles/plain", "fr-FR,fr;q=0.9", "", "en"},
		{"the role's language beats Accept-Language", "/roles/spanish-first", "de", "", "es"},
		{"the cookie beats the role's language", "/roles/spanish-first", "de", "de", "de"},
		{"?lang= beats the cookie", "/roles/spanish-first?lang=en", "de", "de", "en"},
		{"an unknown ?lang= is ignored", "/roles/plain?lang=fr", "es", "", "es"},
		{"an unknown cookie is ignored", "/roles/plain", "es", "xx", "es"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.accept != "" {
				h = append(h, "Accept-Language", tc.accept)
			}
			if tc.cookie != "" {
				h = append(h, "Cookie", langCookie+"="+tc.cookie)
			}
			w := e.do(http.MethodGet, tc.path, nil, h...)
			if w.Code != http.StatusOK {
				t.Fatalf("%d", w.Code)
			}
			if got := htmlLang(t, w.Body.String()); got != tc.want {
				t.Fatalf("<html lang=%q>, want %q", got, tc.want)
			}
			if got := w.Header().Get("Content-Language"); got != tc.want {
				t.Fatalf("Content-Language %q, want %q", got, tc.want)
			}
		})
	}

	// The default itself is configurable.
	es := newTestServer(t, store.DialectSQLite, func(o *Options) { o.Content = languageContent(t); o.DefaultLanguage = "es" })
	if got := htmlLang(t, es.do(http.MethodGet, "/", nil, "Accept-Language", "fr").Body.String()); got != "es" {
		t.Fatalf("default es: <html lang=%q>", got)
	}
}

// TestLanguage_QueryIsKeptInACookie: ?lang= sets a cookie that later
// pages without ?lang= follow, over what the browser prefers.
func TestLanguage_QueryIsKeptInACookie(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	w := e.do(http.MethodGet, "/roles/backend-engineer?lang=es", nil, "Accept-Language", "de")
	var kept *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == langCookie {
			kept = c
		}
	}
	if kept == nil || kept.Value != "es" || kept.Path != "/" || kept.MaxAge <= 0 || !kept.HttpOnly {
		t.Fatalf("cookie %+v", kept)
	}
	w = e.do(http.MethodGet, "/roles/backend-engineer/book", nil, "Accept-Language", "de", "Cookie", kept.Name+"="+kept.Value)
	body := w.Body.String()
	if htmlLang(t, body) != "es" || !strings.Contains(body, "Reserve una llamada de orientación gratuita") {
		t.Fatalf("booking page after ?lang=es is not in Spanish:\n%s", body)
	}
	if w := e.do(http.MethodGet, "/", nil, "Accept-Language", "de"); len(w.Result().Cookies()) != 0 {
		t.Fatal("a page without ?lang= set a language cookie")
	}
}

// TestLanguage_SwitchAndHreflang: every public page links its other
// languages with plain links, and role pages name their language versions
// with hreflang.
func TestLanguage_SwitchAndHreflang(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	body := e.do(http.MethodGet, "/roles/backend-engineer?utm_source=x", nil, "Accept-Language", "de").Body.String()
	for _, want := range []string{
		`<link rel="alternate" hreflang="en" href="http://callbook.test/roles/backend-engineer?lang=en">`,
		`<link rel="alternate" hreflang="de" href="http://callbook.test/roles/backend-engineer?lang=de">`,
		`<link rel="alternate" hreflang="es" href="http://callbook.test/roles/backend-engineer?lang=es">`,
		`<nav class="lang-switch" aria-label="Sprache">`,
		`href="/roles/backend-engineer?lang=es&amp;utm_source=x" hreflang="es" lang="es">Español</a>`,
		`hreflang="de" lang="de" aria-current="true">Deutsch</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("role page lacks %s", want)
		}
	}
	for _, path := range []string{"/", "/roles/backend-engineer/book", "/nowhere"} {
		b := e.do(http.MethodGet, path, nil, "Accept-Language", "es").Body.String()
		if htmlLang(t, b) != "es" || !strings.Contains(b, `lang="de">Deutsch</a>`) {
			t.Errorf("%s: no Spanish page with a language switch", path)
		}
	}
}

// TestRoleContent_PerLanguageWithFallback: <slug>.<lang>.yaml is the role
// page in that language; a language without its own file gets <slug>.yaml.
func TestRoleContent_PerLanguageWithFallback(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.Content = languageContent(t) })
	for lang, want := range map[string]string{"de": "Plattform-Ingenieurin", "es": "Platform Engineer", "en": "Platform Engineer"} {
		body := e.do(http.MethodGet, "/roles/plain?lang="+lang, nil).Body.String()
		if !strings.Contains(body, "<h1>"+want+"</h1>") {
			t.Errorf("%s: role page title is not %q", lang, want)
		}
	}
	// The built-in pages have German (and Spanish) versions, written as
	// such and labelled as US figures.
	b := newTestServer(t, store.DialectSQLite)
	for slug, tagline := range map[string]string{
		"backend-engineer":  "Sie bauen die Dienste, APIs und Datenschichten, auf denen Produkte laufen.",
		"software-engineer": "Der breiteste Weg in die Softwareentwicklung",
	} {
		body := b.do(http.MethodGet, "/roles/"+slug+"?lang=de", nil).Body.String()
		if !strings.Contains(body, tagline) || !strings.Contains(body, "Gesamtvergütung in den USA") {
			t.Errorf("%s in German: not the German role page", slug)
		}
		if !strings.Contains(body, "Offene Stellen pro Monat (USA)") {
			t.Errorf("%s in German: openings not labelled as US figures", slug)
		}
	}
	if body := b.do(http.MethodGet, "/roles/backend-engineer?lang=es", nil).Body.String(); !strings.Contains(body,
		"Construya los servicios, las APIs y la capa de datos") || !strings.Contains(body, "Retribución total en EE. UU.") {
		t.Error("backend-engineer in Spanish: not the Spanish role page")
	}
	if _, err := LoadContent(fstest.MapFS{"plain.de.yaml": {Data: []byte("title: X\n")}}); err == nil {
		t.Error("a language version without its default file was accepted")
	}
}

// TestLanguage_BookingFormProblemsInGerman: the form's problems are said
// in the visitor's language, next to their fields and in the summary.
func TestLanguage_BookingFormProblemsInGerman(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	form := url.Values{"email": {"nicht-gültig"}, "target_title": {"Backend Engineer"}, "timezone": {"Europe/Berlin"},
		"answers.experience": {"1-2"}}
	w := e.postForm("/roles/backend-engineer/book", form, "Accept-Language", "de-DE")
	body := w.Body.String()
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("%d", w.Code)
	}
	for _, want := range []string{
		"Bei Ihrer Buchung gibt es 4 Probleme",
		"Bitte wählen Sie Tag und Uhrzeit für Ihr Gespräch",
		"Bitte geben Sie Ihren Namen ein",
		"E-Mail-Adresse: ist keine gültige Adresse",
		"Bitte setzen Sie das Häkchen",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("German form lacks %q", want)
		}
	}
	if strings.Contains(body, "not a valid address") || strings.Contains(body, "Enter your name") {
		t.Error("German form shows English problems")
	}
}

// TestAPIBooking_LanguageFromBodyHeaderOrDefault: an API booking takes
// "language" from its body, else the best match of Accept-Language, else
// the default; the booking, the lead and the CSV keep it; a language the
// service does not speak is a validation problem.
func TestAPIBooking_LanguageFromBodyHeaderOrDefault(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.DefaultLanguage = "es" })
	starts := e.firstSlots(4, "Europe/Berlin")
	book := func(i int, lang string, headers ...string) (int, string) {
		body := bookingBody("visitor"+itoa(i)+"@example.com", starts[i])
		if lang != "" {
			body["language"] = lang
		}
		w := e.postJSON("/api/v1/bookings", body, headers...)
		return w.Code, w.Body.String()
	}
	for i, tc := range []struct {
		lang, accept, want string
	}{
		{"de", "es-ES", "de"},
		{"", "de-CH,de;q=0.9", "de"},
		{"", "fr-FR", "es"},
		{"", "", "es"},
	} {
		var h []string
		if tc.accept != "" {
			h = []string{"Accept-Language", tc.accept}
		}
		code, body := book(i, tc.lang, h...)
		if code != http.StatusCreated || !strings.Contains(body, `"language":"`+tc.want+`"`) {
			t.Fatalf("body %q, Accept-Language %q: %d %s, want language %s", tc.lang, tc.accept, code, body, tc.want)
		}
	}
	code, body := book(3, "fr")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `"language":"must be one of en, de, es"`) {
		t.Fatalf("language fr: %d %s", code, body)
	}

	admin := e.mustStaff("admin@example.com", "admin")
	w := e.api(admin, http.MethodGet, "/api/v1/admin/leads?q=visitor1", "")
	if !strings.Contains(w.Body.String(), `"language":"de"`) {
		t.Fatalf("lead JSON: %s", w.Body.String())
	}
	csv := e.api(admin, http.MethodGet, "/api/v1/admin/leads/export.csv", "").Body.String()
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	header := strings.Split(strings.TrimSpace(lines[0]), ",")
	col := -1
	for i, h := range header {
		if h == "language" {
			col = i
		}
	}
	if col < 20 || header[len(header)-1] != "answers" {
		t.Fatalf("CSV header %v: language must follow the contract's columns, before answers", header)
	}
	langs := map[string]int{}
	for _, l := range lines[1:] {
		cells := strings.Split(l, ",")
		langs[cells[col]]++
	}
	if langs["de"] != 2 || langs["es"] != 2 {
		t.Fatalf("CSV languages %v", langs)
	}
	lead := e.page(admin, http.MethodGet, "/admin/leads/1", nil).Body.String()
	if !strings.Contains(lead, "<dt>Language</dt><dd>German") {
		t.Fatalf("staff lead page does not show the language")
	}
}

// TestLanguage_EmbeddedFlowCarriesItsLanguage: a frame on another site
// may get no cookies, so the embedded flow's links and its form carry the
// language itself, and the booking is made in it.
func TestLanguage_EmbeddedFlowCarriesItsLanguage(t *testing.T) {
	e := newEmbedServer(t, store.DialectSQLite)
	body := e.do(http.MethodGet, "/embed/roles/software-engineer/book?lang=es&tz=Europe/Madrid", nil).Body.String()
	if !strings.Contains(body, `action="/embed/roles/software-engineer/book?lang=es"`) ||
		!regexp.MustCompile(`<li class="wd\d"><a[^>]* href="[^"]*lang=es`).MatchString(body) {
		t.Fatalf("embedded page does not carry its language:\n%s", body)
	}
	start := e.firstSlots(1, "Europe/Madrid")[0]
	form := url.Values{"name": {"Lucía"}, "email": {"lucia@example.es"}, "target_title": {"Software Engineer"},
		"start": {start}, "timezone": {"Europe/Madrid"}, "consent": {"yes"}}
	if w := e.postForm("/embed/roles/software-engineer/book?lang=es", form, "Accept-Language", "en"); w.Code != http.StatusSeeOther {
		t.Fatalf("book: %d", w.Code)
	}
	var lang string
	e.store.DB().Table("bookings").Select("language").Scan(&lang)
	if lang != "es" {
		t.Fatalf("embedded booking made in %q, want es", lang)
	}
}

// A German visitor's choice is kept in the role's default wording, so
// staff read and count every lead's answers in one language.
func TestAnswers_KeptInTheDefaultPagesWording(t *testing.T) {
	e := newTestServer(t, "sqlite")
	start := e.firstSlots(1, "Europe/Berlin")[0]
	body := bookingBody("ada@example.com", start)
	body["language"] = "de"
	body["answers"] = map[string]any{"experience": "1-2", "timeline": "in 0–3 Monaten"}
	if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusCreated {
		t.Fatalf("booking: %d %s", w.Code, w.Body.String())
	}
	var rows []models.LeadAnswer
	if err := e.store.DB().Order("question_id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.QuestionID] = r.Value
	}
	if got["timeline"] != "0-3 months" || got["experience"] != "1-2" {
		t.Fatalf("answers kept as %v; want the English page's wording", got)
	}
}
